"""Settlement pages: the list scoped to the viewer (the manager's filters and export), a
statement with its actions, the generation form, the rules pages, and the engineer's phone."""

import io

import pytest
from openpyxl import load_workbook

from fieldservice.billing.models import SettlementRule, Statement, StatementLine
from fieldservice.billing.services import settlement as svc
from tests import factories
from tests.billing.settlement_data import MARCH, closed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def statements(personas):
    d = personas.director
    svc.create_rule(actor=d, name="Engineers", basis="per_order", rate="50")
    svc.create_rule(actor=d, name="B", basis="per_order", rate="80", provider=personas.provider)
    svc.create_rule(actor=d, name="C", basis="per_order", rate="70", provider=personas.other_provider)
    other_engineer = factories.engineer(personas.own)
    closed_order(provider=personas.provider)
    closed_order(provider=personas.other_provider)
    closed_order(engineer=personas.engineer)
    closed_order(engineer=other_engineer)
    svc.generate_statements(actor=d, period_start=MARCH[0], period_end=MARCH[1])
    return {
        "b": Statement.objects.get(provider=personas.provider),
        "c": Statement.objects.get(provider=personas.other_provider),
        "mine": Statement.objects.get(engineer=personas.engineer),
        "other": Statement.objects.get(engineer=other_engineer),
    }


def listed(client) -> str:
    response = client.get("/billing/statements/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_each_his_own(client_for, personas, statements):
    s = statements
    everything = listed(client_for(personas.director))
    assert all(x.number in everything for x in s.values())
    assert 'id="generate-form"' in everything
    b_page = listed(client_for(personas.provider_admin))
    assert s["b"].number in b_page
    assert s["c"].number not in b_page and s["mine"].number not in b_page
    assert 'id="generate-form"' not in b_page
    c_page = listed(client_for(personas.other_provider_admin))
    assert s["c"].number in c_page and s["b"].number not in c_page
    mine = listed(client_for(personas.engineer))
    assert s["mine"].number in mine and s["other"].number not in mine and s["b"].number not in mine
    assert client_for(personas.customer_user_a).get("/billing/statements/").status_code == 403


def test_the_managers_filters_and_export(client_for, personas, statements):
    client = client_for(personas.director)
    page = client.get("/billing/statements/", {"party_kind": "provider", "provider": personas.provider.pk}).content
    assert statements["b"].number.encode() in page and statements["c"].number.encode() not in page
    export = client.get("/billing/statements/", {"export": "xlsx"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    # A provider's export holds only its own statements, whatever the address asks.
    party = client_for(personas.provider_admin)
    for query in ({}, {"provider": personas.other_provider.pk}, {"party_kind": "engineer"}):
        own = party.get("/billing/statements/", {**query, "export": "xlsx"})
        assert own.status_code == 200
        rows = list(load_workbook(io.BytesIO(own.content)).active.iter_rows(values_only=True))
        numbers = {row[0] for row in rows[1:]}
        assert numbers <= {statements["b"].number}
        assert numbers == ({statements["b"].number} if not query else set())


def test_a_statement_page_is_404_for_others(client_for, personas, statements):
    b = statements["b"]
    assert client_for(personas.other_provider_admin).get(f"/billing/statements/{b.pk}/").status_code == 404
    assert client_for(personas.engineer).get(f"/billing/statements/{b.pk}/").status_code == 404
    assert client_for(personas.customer_user_a).get(f"/billing/statements/{b.pk}/").status_code == 404
    page = client_for(personas.provider_admin).get(f"/billing/statements/{b.pk}/").content.decode()
    assert "Provider B" in page and "confirm-statement" in page and "approve-statement" not in page


def test_dispute_correct_confirm_approve_settle_through_the_pages(client_for, personas, statements):
    b = statements["b"]
    line = b.lines.get()
    party, manager = client_for(personas.provider_admin), client_for(personas.director)
    # Provider C cannot dispute B's line.
    assert (
        client_for(personas.other_provider_admin)
        .post(f"/billing/statement-lines/{line.pk}/dispute/", {"reason": "x"})
        .status_code
        == 404
    )
    response = party.post(f"/billing/statement-lines/{line.pk}/dispute/", {"reason": "Two visits"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == "disputed"
    bad = manager.post(f"/billing/statement-lines/{line.pk}/correct/", {"amount": "abc", "reason": "x"})
    assert bad.status_code == 422
    line.refresh_from_db()
    assert line.amount == 80
    manager.post(f"/billing/statement-lines/{line.pk}/correct/", {"amount": "130", "reason": "Two visits"})
    party.post(f"/billing/statements/{b.pk}/confirm/")
    manager.post(f"/billing/statements/{b.pk}/approve/")
    b.refresh_from_db()
    assert (b.status, b.total) == ("approved", 130)
    response = manager.post(f"/billing/statements/{b.pk}/approve/", follow=True)
    assert "already approved" in response.content.decode()
    assert manager.post(f"/billing/statements/{b.pk}/settle/", {"payment_reference": ""}).status_code == 422
    manager.post(f"/billing/statements/{b.pk}/settle/", {"payment_reference": "BANK-9"})
    b.refresh_from_db()
    assert (b.status, b.payment_reference) == ("settled", "BANK-9")
    manager.post(f"/billing/statement-lines/{line.pk}/adjust/", {"amount": "-10", "reason": "Toll"})
    assert StatementLine.objects.filter(kind="adjustment", statement__isnull=True, amount=-10).exists()


def test_the_party_cannot_use_the_managers_buttons(client_for, personas, statements):
    b = statements["b"]
    line = b.lines.get()
    party = client_for(personas.provider_admin)
    assert party.post(f"/billing/statements/{b.pk}/approve/").status_code == 403
    assert party.post(f"/billing/statement-lines/{line.pk}/correct/", {"amount": "1", "reason": "x"}).status_code == 403
    assert (
        party.post(
            "/billing/statements/generate/", {"period_start": "2026-03-01", "period_end": "2026-03-31"}
        ).status_code
        == 403
    )
    b.refresh_from_db()
    line.refresh_from_db()
    assert (b.status, line.amount) == ("draft", 80)


def test_generate_from_the_list(client_for, personas):
    svc.create_rule(actor=personas.director, name="x", basis="per_order", rate="50")
    closed_order(engineer=personas.engineer)
    client = client_for(personas.director)
    response = client.post(
        "/billing/statements/generate/", {"period_start": "2026-03-01", "period_end": "2026-03-31"}, follow=True
    )
    assert response.status_code == 200
    assert Statement.objects.count() == 1
    client.post("/billing/statements/generate/", {"period_start": "2026-03-01", "period_end": "2026-03-31"})
    assert StatementLine.objects.count() == 1


def test_rules_pages(client_for, personas):
    manager = client_for(personas.director)
    assert manager.get("/billing/settlement-rules/").status_code == 200
    bad = manager.post("/billing/settlement-rules/new/", {"name": "Share", "basis": "labour_share", "rate": "150"})
    assert bad.status_code == 200 and "between 0 and 100" in bad.content.decode()
    assert not SettlementRule.objects.exists()
    response = manager.post(
        "/billing/settlement-rules/new/",
        {"name": "B per order", "basis": "per_order", "rate": "80", "provider": personas.provider.pk},
    )
    assert response.status_code == 302
    rule = SettlementRule.objects.get()
    manager.post(
        f"/billing/settlement-rules/{rule.pk}/edit/",
        {"name": "B per order", "basis": "per_order", "rate": "90", "provider": personas.provider.pk},
    )
    rule.refresh_from_db()
    assert rule.rate == 90
    manager.post(f"/billing/settlement-rules/{rule.pk}/deactivate/")
    rule.refresh_from_db()
    assert not rule.is_active
    for who in (personas.provider_admin, personas.engineer, personas.customer_user_a):
        client = client_for(who)
        assert client.get("/billing/settlement-rules/").status_code == 403
        assert client.get(f"/billing/settlement-rules/{rule.pk}/edit/").status_code in (403, 404)


def test_the_engineers_phone(client_for, personas, statements):
    mine = statements["mine"]
    client = client_for(personas.engineer)
    page = client.get("/billing/my-statements/").content.decode()
    assert f'id="statement-{mine.pk}"' in page
    assert f'id="statement-{statements["other"].pk}"' not in page
    assert client.get(f"/billing/my-statements/{statements['other'].pk}/").status_code == 404
    detail = client.get(f"/billing/my-statements/{mine.pk}/")
    assert detail.status_code == 200
    assert "field/base_phone.html" in [t.name for t in detail.templates]
    line = mine.lines.get()
    response = client.post(f"/billing/statement-lines/{line.pk}/dispute/", {"reason": "Wrong", "phone": "1"})
    assert response["Location"] == f"/billing/my-statements/{mine.pk}/"
    line.refresh_from_db()
    assert line.status == "disputed"


def test_the_generation_form_offers_last_month(client_for, personas):
    import datetime as dt

    from django.utils import timezone

    page = listed(client_for(personas.director))
    end = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    assert f'name="period_start" value="{end.replace(day=1).isoformat()}"' in page
    assert f'name="period_end" value="{end.isoformat()}"' in page
