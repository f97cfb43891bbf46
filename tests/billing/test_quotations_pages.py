"""Quotation pages: the desk's list, detail by version, the form (preview and save), the verbs,
the work order panel, the engineer's phone (customer signs), and the customer's follow link."""

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fieldservice.billing.choices import DecisionChannel, FeeKind, QuotationStatus
from fieldservice.billing.models import FeeLine, Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.services import quotations as q
from fieldservice.core.models import Event
from tests import factories
from tests.billing.conftest import accept, png_file
from tests.field.test_report import pdf_text


def _counts():
    return (
        Quotation.objects.count(),
        QuotationVersion.objects.count(),
        QuotationLine.objects.count(),
        FeeLine.objects.count(),
        Event.objects.count(),
    )


def _valid_until(days=10):
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def _form(**rows):
    data = {"valid_until": _valid_until(), "tax_rate": "13", "note": ""}
    data.update(rows)
    return data


@pytest.fixture
def quoted(prices):
    p = prices
    p.quotation = q.create_quotation(
        p.order,
        actor=p.agent,
        lines=[
            {"kind": FeeKind.PART, "part": p.motor, "quantity": "1"},
            {"kind": FeeKind.SERVICE, "description": "Hydraulic flush", "quantity": "1"},
        ],
        valid_until=timezone.localdate() + dt.timedelta(days=7),
        tax_rate="13",
    )
    return p


def test_form_previews_then_saves_a_quotation(prices, client_for):
    p = prices
    client = client_for(p.agent)
    url = reverse("billing:quotation_create", args=[p.order.pk])
    assert client.get(url).status_code == 200
    rows = {"part_0": "motor-1", "quantity_0": "1", "kind_1": "service", "description_1": "Hydraulic flush"}
    rows.update({"quantity_1": "1", "discount_1": "100"})
    before = _counts()
    preview = client.post(url, _form(preview="1", **rows))
    assert preview.status_code == 200 and 'id="preview-profit"' in preview.content.decode()
    assert _counts() == before
    saved = client.post(url, _form(**rows))
    quotation = Quotation.objects.get()
    assert saved.status_code == 302 and saved["Location"] == reverse("billing:quotation_detail", args=[quotation.pk])
    assert quotation.total == Decimal("2147.00")  # (1200 + 800 − 100) × 1.13


def test_form_puts_the_service_error_on_the_row(prices, client_for):
    p = prices
    client = client_for(p.agent)
    url = reverse("billing:quotation_create", args=[p.order.pk])
    before = _counts()
    response = client.post(
        url,
        _form(kind_0="service", description_0="Hydraulic flush", quantity_0="1", discount_0="900"),
    )
    assert response.status_code == 200
    assert 'id="id_discount_0_error"' in response.content.decode()
    assert _counts() == before


def test_detail_shows_every_version_and_the_context(quoted, client_for):
    p = quoted
    q.revise_quotation(
        p.quotation,
        actor=p.agent,
        lines=[{"kind": FeeKind.PART, "part": p.motor, "quantity": "2"}],
        valid_until=timezone.localdate() + dt.timedelta(days=9),
        tax_rate="0",
    )
    client = client_for(p.agent)
    url = reverse("billing:quotation_detail", args=[p.quotation.pk])
    current = client.get(url).content.decode()
    assert "2,400.00" in current and 'id="profit"' in current and 'id="receivables"' in current
    old = client.get(url + "?version=1").content.decode()
    assert "2,260.00" in old and "replaced by version 2" in old
    assert client.get(url + "?version=3").status_code == 404
    assert client.get(url + "?version=x").status_code == 200  # not a number: the current version


def test_list_is_for_the_back_office(quoted, client_for):
    p = quoted
    response = client_for(p.agent).get(reverse("billing:quotation_list") + "?q=" + p.quotation.number)
    assert p.quotation.number in response.content.decode()
    assert client_for(p.customer_user_z).get(reverse("billing:quotation_list")).status_code == 403
    assert client_for(p.engineer).get(reverse("billing:quotation_list")).status_code == 403


def test_outsiders_get_404_and_change_nothing(quoted, client_for):
    p = quoted
    before = _counts()
    for user in (p.customer_user_z, p.other_engineer, p.provider_admin):
        client = client_for(user)
        assert client.get(reverse("billing:quotation_detail", args=[p.quotation.pk])).status_code == 404
        assert client.post(reverse("billing:quotation_send", args=[p.quotation.pk])).status_code == 404
        assert client.get(reverse("billing:quotation_pdf", args=[p.quotation.pk])).status_code == 404
    assert _counts() == before


def test_send_record_decision_and_void_buttons(quoted, client_for):
    p = quoted
    client = client_for(p.agent)
    client.post(reverse("billing:quotation_send", args=[p.quotation.pk]))
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.SENT
    response = client.post(
        reverse("billing:quotation_decide", args=[p.quotation.pk]),
        {"version": "1", "decision": "decline", "reason": "Too expensive"},
    )
    assert response.status_code == 302
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.DECLINED and p.quotation.decided_via == DecisionChannel.DESK
    assert p.quotation.decline_reason == "Too expensive"


def test_desk_pdf_in_both_languages(quoted, client_for):
    p = quoted
    client = client_for(p.agent)
    url = reverse("billing:quotation_pdf", args=[p.quotation.pk])
    assert "伺服电机" in pdf_text(client.get(url + "?lang=zh-hans").content)
    assert "Hydraulic flush" in pdf_text(client.get(url + "?lang=en&version=1").content)


def test_order_page_has_the_quotations_panel(quoted, client_for):
    p = quoted
    body = client_for(p.agent).get(reverse("workorders:order_detail", args=[p.order.pk])).content.decode()
    assert 'id="quotations"' in body and p.quotation.number in body


def test_customer_signs_on_the_engineers_phone(quoted, client_for):
    p = quoted
    accept(p)
    client = client_for(p.engineer)
    page = client.get(reverse("field:order", args=[p.order.pk])).content.decode()
    assert 'id="quotation"' in page and "Customer signs to approve" in page
    signature = "data:image/png;base64," + base64.b64encode(png_file().read()).decode()
    response = client.post(
        reverse("billing:quotation_phone_sign", args=[p.quotation.pk]),
        {"version": "1", "signature": signature, "signer_name": "王经理"},
    )
    assert response.status_code == 302
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.APPROVED and p.quotation.decided_via == DecisionChannel.PHONE
    assert p.quotation.signature_id and FeeLine.objects.filter(quotation=p.quotation).count() == 2


def test_another_engineer_cannot_sign_for_the_customer(quoted, client_for):
    p = quoted
    before = _counts()
    signature = "data:image/png;base64," + base64.b64encode(png_file().read()).decode()
    response = client_for(p.other_engineer).post(
        reverse("billing:quotation_phone_sign", args=[p.quotation.pk]),
        {"version": "1", "signature": signature, "signer_name": "x"},
    )
    assert response.status_code == 404
    assert _counts() == before


def _follow(p):
    return reverse("portal:follow", args=[p.order.request.follow_token])


def test_follow_link_shows_and_approves_the_sent_quotation(quoted):
    p = quoted
    client = Client()
    assert "quotation-" not in client.get(_follow(p)).content.decode()  # a draft is not shown
    q.send_quotation(p.quotation, actor=p.agent)
    page = client.get(_follow(p)).content.decode()
    assert f'id="quotation-{p.quotation.pk}"' in page and "Approve the quotation" in page
    token = p.order.request.follow_token
    response = client.post(
        reverse("portal:approve_quotation", args=[token, p.order.pk, p.quotation.pk]),
        {"version": "1", "signer_name": "王经理"},
    )
    assert response.status_code == 302
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.APPROVED
    assert p.quotation.decided_via == DecisionChannel.FOLLOW_LINK and p.quotation.signer_name == "王经理"
    assert FeeLine.objects.filter(quotation=p.quotation, work_order=p.order).count() == 2
    pdf = client.get(reverse("portal:quotation_pdf", args=[token, p.order.pk, p.quotation.pk]))
    assert pdf.status_code == 200 and "伺服电机" in pdf_text(pdf.content)


def test_follow_link_decline_records_the_reason(quoted):
    p = quoted
    q.send_quotation(p.quotation, actor=p.agent)
    token = p.order.request.follow_token
    url = reverse("portal:decline_quotation", args=[token, p.order.pk, p.quotation.pk])
    before = _counts()
    empty = Client().post(url, {"version": "1", "reason": ""})
    assert empty.status_code == 200 and _counts() == before
    Client().post(url, {"version": "1", "reason": "价格太高"})
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.DECLINED and p.quotation.decline_reason == "价格太高"


def test_follow_link_of_another_request_cannot_reach_the_quotation(quoted):
    p = quoted
    q.send_quotation(p.quotation, actor=p.agent)
    other_request = factories.service_request(p.customer_cn, actor=p.agent, description="another")
    before = _counts()
    client = Client()
    for token, order_pk in ((other_request.follow_token, p.order.pk), ("0" * 32, p.order.pk)):
        response = client.post(
            reverse("portal:approve_quotation", args=[token, order_pk, p.quotation.pk]), {"version": "1"}
        )
        assert response.status_code == 404
        pdf = client.get(reverse("portal:quotation_pdf", args=[token, order_pk, p.quotation.pk]))
        assert pdf.status_code == 404
    assert _counts() == before
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.SENT


def test_follow_link_refuses_a_replaced_version(quoted):
    p = quoted
    q.send_quotation(p.quotation, actor=p.agent)
    q.revise_quotation(
        p.quotation,
        actor=p.agent,
        lines=[{"kind": FeeKind.PART, "part": p.motor, "quantity": "3"}],
        valid_until=timezone.localdate() + dt.timedelta(days=7),
        tax_rate="13",
    )
    token = p.order.request.follow_token
    before = _counts()
    response = Client().post(
        reverse("portal:approve_quotation", args=[token, p.order.pk, p.quotation.pk]), {"version": "1"}, follow=True
    )
    assert "replaced by version 2" in response.content.decode()
    assert _counts() == before


def test_revise_form_starts_from_the_current_version_and_saves_the_next(quoted, client_for):
    p = quoted
    client = client_for(p.agent)
    url = reverse("billing:quotation_revise", args=[p.quotation.pk])
    page = client.get(url).content.decode()
    assert 'value="MOTOR-1"' in page and 'value="Hydraulic flush"' in page
    rows = {"part_0": "MOTOR-1", "quantity_0": "3", "kind_1": "service", "description_1": "Hydraulic flush"}
    rows["quantity_1"] = "1"
    response = client.post(url, _form(tax_rate="0", **rows))
    assert response.status_code == 302
    p.quotation.refresh_from_db()
    assert p.quotation.version == 2 and p.quotation.total == Decimal("4400.00")
    assert QuotationVersion.objects.get(quotation=p.quotation, number=1).total == Decimal("2260.00")


def test_engineer_on_the_order_writes_a_quotation_from_the_phone_link(prices, client_for):
    p = prices
    accept(p)
    client = client_for(p.engineer)
    page = client.get(reverse("field:order", args=[p.order.pk])).content.decode()
    create = reverse("billing:quotation_create", args=[p.order.pk])
    assert create in page
    response = client.post(create, _form(kind_0="labour", description_0="Repair", quantity_0="2"))
    assert response.status_code == 302
    assert Quotation.objects.get().created_by == p.engineer
    assert client_for(p.other_engineer).get(create).status_code == 404


def test_the_revision_form_keeps_the_validity_date_in_chinese(quoted, client_for):
    """A date input only takes YYYY-MM-DD: in Chinese Django's first input format is 2026/12/17,
    which the browser drops, and the revision then fails for a missing date."""
    p = quoted
    url = reverse("billing:quotation_revise", args=[p.quotation.pk])
    page = client_for(p.agent).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'value="{p.quotation.valid_until.isoformat()}"' in page
