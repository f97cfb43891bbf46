"""The fee lines' API: who reads them (costs only for the back office), idempotent adds, the
verbs, and every crossing refused with nothing written."""

from decimal import Decimal

import pytest

from fieldservice.billing.choices import FeeKind, FeeSource
from fieldservice.billing.models import FeeLine
from fieldservice.core.models import Event
from fieldservice.workorders.services.intake import attach_file
from tests.billing.conftest import complete, png_file

pytestmark = pytest.mark.django_db
JSON = "application/json"


def money_events() -> int:
    return Event.objects.filter(action__in=["fee_added", "fee_corrected", "fee_voided", "order_priced"]).count()


def url(order, tail="fee-lines"):
    return f"/api/v1/billing/work-orders/{order.pk}/{tail}"


def test_the_back_office_reads_lines_with_costs_the_engineer_without(prices, api_client_for):
    p = prices
    order = complete(p)
    office = api_client_for(p.agent).get(url(order))
    assert office.status_code == 200, office.content
    rows = office.json()["items"]
    labour = next(row for row in rows if row["kind"] == "labour")
    assert labour["amount"] == "500.00" and Decimal(labour["cost"]) == Decimal("325.00")
    assert labour["payer"] == "customer" and labour["payer_reason"].startswith("Chargeable")
    phone = api_client_for(p.engineer).get(url(order))
    assert phone.status_code == 200
    assert all(row["cost"] is None and row["unit_cost"] is None for row in phone.json()["items"])
    assert len(phone.json()["items"]) == len(rows)


def test_outsiders_cannot_read_or_add(prices, api_client_for):
    p = prices
    order = complete(p)
    line = FeeLine.objects.filter(work_order=order).first()
    lines, events = FeeLine.objects.count(), money_events()
    body = {"kind": "other", "description": "Toll", "unit_price": "10"}
    for outsider in (p.other_engineer, p.customer_user_a, p.customer_user_z, p.other_provider_admin, p.dispatcher):
        client = api_client_for(outsider)
        assert client.get(url(order)).status_code == 404, outsider
        assert client.post(url(order), body, content_type=JSON).status_code in (403, 404), outsider
        answer = client.post(
            f"/api/v1/billing/fee-lines/{line.pk}/correct", {"reason": "x", "unit_price": "1"}, content_type=JSON
        )
        assert answer.status_code in (403, 404), outsider
        answer = client.post(f"/api/v1/billing/fee-lines/{line.pk}/void", {"reason": "x"}, content_type=JSON)
        assert answer.status_code in (403, 404), outsider
        assert client.post(url(order, "price")).status_code in (403, 404), outsider
    # The engineer on the order may read but not correct, remove or price.
    engineer = api_client_for(p.engineer)
    answer = engineer.post(
        f"/api/v1/billing/fee-lines/{line.pk}/correct", {"reason": "x", "unit_price": "1"}, content_type=JSON
    )
    assert answer.status_code == 403
    assert engineer.post(url(order, "price")).status_code == 403
    assert FeeLine.objects.count() == lines and money_events() == events
    line.refresh_from_db()
    assert not line.is_void


def test_adding_is_idempotent(prices, api_client_for):
    p = prices
    order = complete(p)
    client = api_client_for(p.agent)
    body = {"kind": "service", "description": "Hydraulic flush", "unit_price": "800.00", "discount": "50"}
    first = client.post(url(order), body, content_type=JSON, headers={"Idempotency-Key": "flush-1"})
    again = client.post(url(order), body, content_type=JSON, headers={"Idempotency-Key": "flush-1"})
    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["id"] == again.json()["id"] and first.json()["amount"] == "750.00"
    assert FeeLine.objects.filter(work_order=order, description="Hydraulic flush").count() == 1
    assert first.json()["source"] == FeeSource.OFFICE


def test_bad_input_names_the_field_and_writes_nothing(prices, api_client_for):
    p = prices
    order = complete(p)
    client = api_client_for(p.agent)
    count = FeeLine.objects.count()
    cases = [
        ({"kind": "service", "description": "x", "unit_price": "-1"}, "unit_price"),
        ({"kind": "service", "description": "x", "unit_price": "10", "quantity": "0"}, "quantity"),
        ({"kind": "service", "description": "x", "unit_price": "10", "discount": "11"}, "discount"),
        ({"kind": "service", "description": "x", "unit_price": "10", "surprise": 1}, "surprise"),
        ({"kind": "part", "description": "x", "unit_price": "10", "part": 999999}, "part"),
    ]
    for body, field in cases:
        answer = client.post(url(order), body, content_type=JSON)
        assert answer.status_code == 422, (body, answer.content)
        assert field in [item["loc"][-1] for item in answer.json()["detail"]], answer.json()
    assert FeeLine.objects.count() == count


def test_correct_void_and_price_through_the_api(prices, api_client_for):
    p = prices
    order = complete(p)
    client = api_client_for(p.agent)
    labour = FeeLine.objects.get(work_order=order, kind=FeeKind.LABOUR)
    answer = client.post(
        f"/api/v1/billing/fee-lines/{labour.pk}/correct",
        {"reason": "Agreed", "unit_price": "150.00"},
        content_type=JSON,
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["amount"] == "375.00"
    missing = client.post(f"/api/v1/billing/fee-lines/{labour.pk}/correct", {"unit_price": "1"}, content_type=JSON)
    assert missing.status_code == 422
    call_out = FeeLine.objects.get(work_order=order, kind=FeeKind.SERVICE)
    answer = client.post(f"/api/v1/billing/fee-lines/{call_out.pk}/void", {"reason": "Waived"}, content_type=JSON)
    assert answer.status_code == 200 and answer.json()["is_void"]
    again = client.post(f"/api/v1/billing/fee-lines/{call_out.pk}/void", {"reason": "Waived"}, content_type=JSON)
    assert again.status_code == 409
    priced = client.post(url(order, "price"))
    assert priced.status_code == 200
    amounts = {row["kind"]: row["amount"] for row in priced.json()}
    assert amounts["labour"] == "375.00" and "service" not in amounts


def test_the_engineer_adds_a_cost_with_a_photo_of_the_order(prices, api_client_for):
    p = prices
    order = complete(p)
    photo = attach_file(order, actor=p.engineer, file=png_file(), kind="photo")
    client = api_client_for(p.engineer)
    body = {"kind": "other", "description": "Parking", "unit_price": "20"}
    assert client.post(url(order), body, content_type=JSON).status_code == 422  # no receipt
    answer = client.post(url(order), body | {"receipt": photo.pk}, content_type=JSON)
    assert answer.status_code == 201, answer.content
    assert answer.json()["receipt"] == photo.pk and answer.json()["cost"] is None
