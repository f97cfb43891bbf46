"""The settlement API: scoped lists and lookups (provider C never sees B's, an engineer only his
own, a customer none), the verb endpoints, the rules, and bad input answered with the field."""

import pytest

from fieldservice.billing.models import SettlementRule, Statement, StatementLine
from fieldservice.billing.services import settlement as svc
from tests import factories
from tests.billing.settlement_data import MARCH, closed_order

pytestmark = pytest.mark.django_db

API = "/api/v1/billing"
JSON = "application/json"


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


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_each_sees_only_his_own(api_client_for, personas, statements):
    s = statements
    assert ids(api_client_for(personas.director).get(f"{API}/statements")) == {x.pk for x in s.values()}
    assert ids(api_client_for(personas.provider_admin).get(f"{API}/statements")) == {s["b"].pk}
    assert ids(api_client_for(personas.other_provider_admin).get(f"{API}/statements")) == {s["c"].pk}
    assert ids(api_client_for(personas.engineer).get(f"{API}/statements")) == {s["mine"].pk}
    assert ids(api_client_for(personas.provider_engineer).get(f"{API}/statements")) == set()
    assert api_client_for(personas.customer_user_a).get(f"{API}/statements").status_code == 403
    # One object: 404 for not yours, as for missing.
    c_client = api_client_for(personas.other_provider_admin)
    assert c_client.get(f"{API}/statements/{s['b'].pk}").status_code == 404
    assert api_client_for(personas.engineer).get(f"{API}/statements/{s['other'].pk}").status_code == 404
    assert api_client_for(personas.customer_user_a).get(f"{API}/statements/{s['b'].pk}").status_code == 404
    detail = api_client_for(personas.provider_admin).get(f"{API}/statements/{s['b'].pk}").json()
    assert detail["party_name"] == "Provider B"
    assert detail["lines"][0]["breakdown"][0]["basis"] == "per_order"


def test_filters_of_the_manager(api_client_for, personas, statements):
    client = api_client_for(personas.director)
    assert ids(client.get(f"{API}/statements", {"party_kind": "provider"})) == {
        statements["b"].pk,
        statements["c"].pk,
    }
    assert ids(client.get(f"{API}/statements", {"provider": personas.provider.pk})) == {statements["b"].pk}
    assert ids(client.get(f"{API}/statements", {"period_from": "2026-04-01"})) == set()
    assert ids(client.get(f"{API}/statements", {"status": "draft", "period_to": "2026-03-31"})) == {
        x.pk for x in statements.values()
    }


def test_another_provider_cannot_act_on_b(api_client_for, personas, statements):
    b = statements["b"]
    line = b.lines.get()
    c_client = api_client_for(personas.other_provider_admin)
    assert c_client.post(f"{API}/statements/{b.pk}/confirm").status_code == 404
    response = c_client.post(f"{API}/statement-lines/{line.pk}/dispute", {"reason": "x"}, content_type=JSON)
    assert response.status_code == 404
    assert (
        api_client_for(personas.engineer)
        .post(f"{API}/statement-lines/{line.pk}/dispute", {"reason": "x"}, content_type=JSON)
        .status_code
        == 404
    )
    b.refresh_from_db()
    line.refresh_from_db()
    assert (b.status, line.status) == ("draft", "open")


def test_the_whole_life_through_the_api(api_client_for, personas, statements):
    b = statements["b"]
    line = b.lines.get()
    party = api_client_for(personas.provider_admin)
    manager = api_client_for(personas.director)
    response = party.post(f"{API}/statement-lines/{line.pk}/dispute", {"reason": "Too low"}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disputed"
    assert manager.post(f"{API}/statements/{b.pk}/approve").status_code == 409
    # The party may not correct; the manager may.
    assert (
        party.post(
            f"{API}/statement-lines/{line.pk}/correct", {"amount": "1", "reason": "x"}, content_type=JSON
        ).status_code
        == 403
    )
    response = manager.post(
        f"{API}/statement-lines/{line.pk}/correct", {"amount": "95.00", "reason": "Agreed"}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    assert (response.json()["amount"], response.json()["original_amount"]) == ("95.00", "80.00")
    assert party.post(f"{API}/statements/{b.pk}/confirm").json()["status"] == "confirmed"
    assert manager.post(f"{API}/statements/{b.pk}/approve").json()["status"] == "approved"
    again = manager.post(f"{API}/statements/{b.pk}/approve")
    assert again.status_code == 409
    assert "already" in again.content.decode()
    missing = manager.post(f"{API}/statements/{b.pk}/settle", {"payment_reference": ""}, content_type=JSON)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "payment_reference"]
    settled = manager.post(f"{API}/statements/{b.pk}/settle", {"payment_reference": "BANK-1"}, content_type=JSON)
    assert (settled.json()["status"], settled.json()["payment_reference"], settled.json()["total"]) == (
        "settled",
        "BANK-1",
        "95.00",
    )
    # A correction after settlement: an adjustment, idempotent with a key.
    body = {"work_order": line.work_order_id, "amount": "-5.00", "reason": "Toll refunded"}
    first = manager.post(f"{API}/adjustments", body, content_type=JSON, headers={"Idempotency-Key": "adj-1"})
    assert first.status_code == 201, first.content
    repeat = manager.post(f"{API}/adjustments", body, content_type=JSON, headers={"Idempotency-Key": "adj-1"})
    assert repeat.json()["id"] == first.json()["id"]
    assert StatementLine.objects.filter(kind="adjustment").count() == 1
    assert ids(manager.get(f"{API}/adjustments")) == {first.json()["id"]}
    assert party.get(f"{API}/adjustments").status_code == 403
    assert party.post(f"{API}/adjustments", body, content_type=JSON).status_code == 403


def test_generate_through_the_api(api_client_for, personas):
    svc.create_rule(actor=personas.director, name="x", basis="per_order", rate="50")
    closed_order(engineer=personas.engineer)
    body = {"period_start": "2026-03-01", "period_end": "2026-03-31"}
    assert (
        api_client_for(personas.provider_admin).post(f"{API}/statements/generate", body, content_type=JSON).status_code
        == 403
    )
    assert not Statement.objects.exists()
    bad = api_client_for(personas.director).post(
        f"{API}/statements/generate", {"period_start": "2026-03-31", "period_end": "2026-03-01"}, content_type=JSON
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "period_end"]
    response = api_client_for(personas.director).post(f"{API}/statements/generate", body, content_type=JSON)
    assert response.status_code == 200, response.content
    assert (response.json()["statements_created"], response.json()["orders_placed"]) == (1, 1)
    again = api_client_for(personas.director).post(f"{API}/statements/generate", body, content_type=JSON)
    assert again.json()["orders_placed"] == 0
    assert StatementLine.objects.count() == 1


def test_rules_crud(api_client_for, personas):
    manager = api_client_for(personas.director)
    body = {"name": "B per order", "basis": "per_order", "rate": "80", "provider": personas.provider.pk}
    created = manager.post(f"{API}/settlement-rules", body, content_type=JSON, headers={"Idempotency-Key": "r1"})
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["provider"] == personas.provider.pk
    patched = manager.patch(f"{API}/settlement-rules/{rule_id}", {"rate": "85.50"}, content_type=JSON)
    assert patched.json()["rate"] == "85.50"
    assert manager.post(f"{API}/settlement-rules/{rule_id}/deactivate").json()["is_active"] is False
    assert ids(manager.get(f"{API}/settlement-rules", {"active": "false"})) == {rule_id}
    bad = manager.post(
        f"{API}/settlement-rules", {"name": "x", "basis": "labour_share", "rate": "150"}, content_type=JSON
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "rate"]
    unknown = manager.post(f"{API}/settlement-rules", {**body, "colour": "red"}, content_type=JSON)
    assert unknown.status_code == 422
    assert SettlementRule.objects.count() == 1
    for who in (personas.provider_admin, personas.engineer, personas.customer_user_a):
        client = api_client_for(who)
        assert client.get(f"{API}/settlement-rules").status_code == 403
        assert client.post(f"{API}/settlement-rules", body, content_type=JSON).status_code == 403
        assert client.patch(f"{API}/settlement-rules/{rule_id}", {"rate": "1"}, content_type=JSON).status_code == 403
    assert SettlementRule.objects.get().rate == 85.5
