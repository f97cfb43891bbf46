"""The quotations API (/api/v1/billing/quotations): scoped lists and lookups, idempotent creates,
verbs, 4xx that name the field and write nothing, and the PDF in both languages."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from fieldservice.accounts.choices import Role
from fieldservice.billing.choices import DecisionChannel, FeeKind, QuotationStatus
from fieldservice.billing.models import FeeLine, Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.services import quotations as q
from fieldservice.core.models import Event
from tests import factories
from tests.billing.conftest import accept, png_file
from tests.field.test_report import pdf_text

URL = "/api/v1/billing/quotations"


def _body(p, **overrides):
    body = {
        "work_order": p.order.pk,
        "lines": [
            {"kind": FeeKind.PART, "part": p.motor.pk, "quantity": "1"},
            {"kind": FeeKind.SERVICE, "description": "Hydraulic flush", "quantity": "1", "discount": "50"},
        ],
        "valid_until": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        "tax_rate": "13",
        "note": "",
    }
    body.update(overrides)
    return body


def _post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", headers=headers)


def _counts():
    return (
        Quotation.objects.count(),
        QuotationVersion.objects.count(),
        QuotationLine.objects.count(),
        FeeLine.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def customer_cn_user(prices):
    return factories.user(Role.CUSTOMER, organisation=prices.customer_cn.organisation, username="cn_user")


@pytest.fixture
def sent(prices):
    p = prices
    p.quotation = q.create_quotation(
        p.order,
        actor=p.agent,
        lines=[{"kind": FeeKind.PART, "part": p.motor, "quantity": "2"}],
        valid_until=timezone.localdate() + dt.timedelta(days=7),
        tax_rate="13",
    )
    q.send_quotation(p.quotation, actor=p.agent)
    return p


def test_create_is_idempotent_and_returns_the_versions(prices, api_client_for):
    p = prices
    client = api_client_for(p.agent)
    first = _post(client, URL, _body(p), **{"Idempotency-Key": "quote-1"})
    assert first.status_code == 201, first.content
    again = _post(client, URL, _body(p), **{"Idempotency-Key": "quote-1"})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Quotation.objects.count() == 1
    data = first.json()
    assert data["status"] == "draft" and data["version"] == 1
    version = data["versions"][0]
    assert Decimal(version["total"]) == Decimal("2203.50")  # (1200 + 800 − 50) × 1.13
    assert Decimal(version["lines"][0]["unit_price"]) == Decimal("1200.00")


def test_bad_line_is_a_422_naming_the_line_and_field(prices, api_client_for):
    p = prices
    body = _body(p)
    body["lines"][1]["discount"] = "900"
    client = api_client_for(p.agent)
    before = _counts()
    response = _post(client, URL, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "lines[1].discount"]
    assert response.json()["detail"][0]["type"] == "above_line"
    assert _counts() == before


def test_verbs_revise_send_approve(prices, api_client_for):
    p = prices
    client = api_client_for(p.agent)
    created = _post(client, URL, _body(p)).json()
    base = f"{URL}/{created['id']}"
    revision = _body(p, tax_rate="6")
    del revision["work_order"]
    revised = _post(client, f"{base}/revise", revision)
    assert revised.status_code == 200 and revised.json()["version"] == 2
    assert [v["number"] for v in revised.json()["versions"]] == [1, 2]
    assert _post(client, f"{base}/send").json()["status"] == "sent"
    stale = _post(client, f"{base}/approve", {"version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "quotation_replaced"
    approved = _post(client, f"{base}/approve", {"version": 2})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert FeeLine.objects.filter(work_order=p.order, quotation_id=created["id"]).count() == 2


def test_customer_sees_and_decides_only_his_companys(sent, api_client_for, customer_cn_user):
    p = sent
    own = api_client_for(customer_cn_user)
    listed = own.get(URL).json()["items"]
    assert [row["id"] for row in listed] == [p.quotation.pk]
    detail = own.get(f"{URL}/{p.quotation.pk}").json()
    assert detail["versions"][0]["cost"] is None and detail["versions"][0]["profit"] is None
    assert detail["versions"][0]["lines"][0]["cost"] is None
    # Customer Z: not in the list, 404 on the detail, the verbs and the PDF; nothing changes.
    other = api_client_for(p.customer_user_z)
    assert other.get(URL).json()["items"] == []
    before = _counts()
    assert other.get(f"{URL}/{p.quotation.pk}").status_code == 404
    assert other.get(f"{URL}/{p.quotation.pk}/pdf").status_code == 404
    assert _post(other, f"{URL}/{p.quotation.pk}/approve", {"version": 1}).status_code == 404
    assert _post(other, f"{URL}/{p.quotation.pk}/decline", {"version": 1, "reason": "x"}).status_code == 404
    assert _counts() == before
    # His own customer declines through the API.
    declined = _post(own, f"{URL}/{p.quotation.pk}/decline", {"version": 1, "reason": "预算不足"})
    assert declined.status_code == 200 and declined.json()["decline_reason"] == "预算不足"
    p.quotation.refresh_from_db()
    assert p.quotation.decided_via == DecisionChannel.API and p.quotation.decided_by == customer_cn_user


def test_customer_may_not_write_send_or_void(sent, api_client_for, customer_cn_user):
    p = sent
    client = api_client_for(customer_cn_user)
    before = _counts()
    assert _post(client, f"{URL}/{p.quotation.pk}/void", {"reason": "x"}).status_code == 403
    assert _post(client, URL, _body(p)).status_code in (403, 422)
    assert _counts() == before


def test_engineer_not_on_the_order_sees_nothing(sent, api_client_for):
    p = sent
    client = api_client_for(p.other_engineer)
    assert client.get(URL).json()["items"] == []
    assert client.get(f"{URL}/{p.quotation.pk}").status_code == 404


def test_the_office_sees_costs(sent, api_client_for):
    p = sent
    version = api_client_for(p.agent).get(f"{URL}/{p.quotation.pk}").json()["versions"][0]
    assert version["cost"] is not None and version["profit"] is not None


def test_pdf_has_the_lines_in_chinese_and_english(sent, api_client_for):
    p = sent
    client = api_client_for(p.agent)
    chinese = client.get(f"{URL}/{p.quotation.pk}/pdf?lang=zh-hans")
    assert chinese.status_code == 200 and chinese["Content-Type"] == "application/pdf"
    text = pdf_text(chinese.content)
    assert "伺服电机" in text and "宁波精密机械有限公司" in text
    assert p.quotation.number in text and "MOTOR-1" in text
    english = pdf_text(client.get(f"{URL}/{p.quotation.pk}/pdf?lang=en&version=1").content)
    assert "Quotation" in english and "Total" in english and "伺服电机" in english
    assert client.get(f"{URL}/{p.quotation.pk}/pdf?version=9").status_code == 404


def test_status_is_not_writable(sent, api_client_for):
    p = sent
    revision = _body(p, status="approved")
    del revision["work_order"]
    client = api_client_for(p.agent)
    response = _post(client, f"{URL}/{p.quotation.pk}/revise", revision)
    assert response.status_code == 422
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.SENT and p.quotation.version == 1


def test_engineer_has_the_customer_sign_through_the_api(sent, api_client_for):
    p = sent
    accept(p)
    client = api_client_for(p.engineer)
    url = f"{URL}/{p.quotation.pk}/sign"
    before = _counts()
    blank = client.post(url, {"version": "1", "signer_name": "王经理", "signature": png_file(ink=False)})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "signature"]
    extra = client.post(url, {"version": "1", "signature": png_file(), "status": "approved"})
    assert extra.status_code == 422
    no_version = client.post(url, {"signature": png_file(), "signer_name": "王经理"})
    assert no_version.status_code == 422 and no_version.json()["detail"][0]["loc"] == ["body", "version"]
    assert _counts() == before
    signed = client.post(url, {"version": "1", "signer_name": "王经理", "signature": png_file()})
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "approved" and signed.json()["decided_via"] == DecisionChannel.PHONE
    assert signed.json()["versions"][0]["cost"] is None  # an engineer reads no costs through the API


def test_another_engineer_cannot_sign(sent, api_client_for):
    p = sent
    client = api_client_for(p.other_engineer)
    before = _counts()
    response = client.post(f"{URL}/{p.quotation.pk}/sign", {"version": "1", "signature": png_file()})
    assert response.status_code == 404
    assert _counts() == before
