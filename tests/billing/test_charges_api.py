"""The API of customer charges (/api/v1/billing/): idempotent creates, verb endpoints, 4xx naming
the field with nothing written, and customers seeing only their own company's bills."""

from decimal import Decimal

import pytest

from fieldservice.billing.choices import BillStatus, InvoiceRequestStatus
from fieldservice.billing.models import Bill, InvoiceRequest, Payment
from fieldservice.billing.services.charges import draft_bill, issue_bill
from tests.billing.charges_helpers import customer_user, priced

pytestmark = pytest.mark.django_db

API = "/api/v1/billing"


def post(client, url, data=None, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def issued(p):
    priced(p)
    return issue_bill(draft_bill(p.order, actor=p.agent), actor=p.agent)


def test_the_office_drafts_issues_and_is_paid_through_the_api(visit, api_client_for):
    p = visit
    priced(p)
    client = api_client_for(p.agent)
    first = post(client, f"{API}/bills", {"work_order": p.order.pk}, key="bill-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "draft" and Decimal(body["total"]) == Decimal("690.50")
    assert len(body["lines"]) == 2
    again = post(client, f"{API}/bills", {"work_order": p.order.pk}, key="bill-1")
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Bill.objects.count() == 1
    bill_id = body["id"]

    issued_body = post(client, f"{API}/bills/{bill_id}/issue", {"due_on": None}).json()
    assert issued_body["status"] == "issued" and issued_body["due_on"]
    assert post(client, f"{API}/bills/{bill_id}/issue").status_code == 409  # already issued

    payment = {"amount": "600.00", "method": "bank_transfer", "reference": "TT-88"}
    paid = post(client, f"{API}/bills/{bill_id}/payments", payment, key="pay-1")
    assert paid.status_code == 201 and paid.json()["method"] == "bank_transfer"
    repeat = post(client, f"{API}/bills/{bill_id}/payments", payment, key="pay-1")
    assert repeat.json()["id"] == paid.json()["id"]
    assert Payment.objects.count() == 1
    detail = client.get(f"{API}/bills/{bill_id}").json()
    assert detail["status"] == "partly_paid" and Decimal(detail["open_amount"]) == Decimal("90.50")
    assert len(detail["payments"]) == 1

    written_off = post(client, f"{API}/bills/{bill_id}/write-off", {"reason": "Small balance"})
    assert written_off.json()["status"] == "written_off"


@pytest.mark.parametrize(
    ("amount", "field_type"),
    [("690.51", "above_open_amount"), ("-1", "negative"), ("0", "not_positive"), ("1e20", "invalid")],
)
def test_a_bad_payment_is_a_422_naming_amount_and_writes_nothing(visit, api_client_for, amount, field_type):
    p = visit
    bill = issued(p)
    answer = post(api_client_for(p.agent), f"{API}/bills/{bill.pk}/payments", {"amount": amount, "method": "cash"})
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert detail["loc"] == ["body", "amount"] and detail["type"] == field_type
    assert not Payment.objects.exists()
    bill.refresh_from_db()
    assert bill.paid == 0 and bill.status == BillStatus.ISSUED


def test_nothing_chargeable_is_a_409(visit, api_client_for):
    p = visit
    answer = post(api_client_for(p.agent), f"{API}/bills", {"work_order": p.order.pk})
    assert answer.status_code == 409
    assert not Bill.objects.exists()


def test_customers_see_only_their_own_bills(visit, api_client_for):
    p = visit
    bill = issued(p)
    mine = api_client_for(customer_user(p))
    body = mine.get(f"{API}/bills").json()
    assert [item["id"] for item in body["items"]] == [bill.pk]
    assert mine.get(f"{API}/bills/{bill.pk}").status_code == 200
    assert [row["customer"] for row in mine.get(f"{API}/receivables").json()["items"]] == [p.customer_cn.pk]
    for outsider in (p.customer_user_z, p.customer_user_a):
        client = api_client_for(outsider)
        assert client.get(f"{API}/bills").json()["items"] == []
        assert client.get(f"{API}/bills/{bill.pk}").status_code == 404
        assert client.get(f"{API}/receivables").json()["items"] == []
        answer = post(client, f"{API}/bills/{bill.pk}/payments", {"amount": "10", "method": "cash"})
        assert answer.status_code == 404
        answer = post(
            client, f"{API}/bills/{bill.pk}/invoice-requests", {"title": "Z", "tax_number": "91330206MA2AXXXX1X"}
        )
        assert answer.status_code == 404
    # The customer cannot record a payment on his own bill either: he pays online.
    assert post(mine, f"{API}/bills/{bill.pk}/payments", {"amount": "10", "method": "cash"}).status_code == 403
    assert not Payment.objects.exists() and not InvoiceRequest.objects.exists()


def test_a_customer_asks_for_an_invoice_and_the_office_issues_it(visit, api_client_for):
    p = visit
    bill = issued(p)
    mine = api_client_for(customer_user(p))
    wrong = post(mine, f"{API}/bills/{bill.pk}/invoice-requests", {"title": "宁波精密", "tax_number": "123"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "tax_number"]
    assert "15, 17, 18 or 20" in wrong.json()["detail"][0]["msg"]
    assert not InvoiceRequest.objects.exists()
    data = {"title": "宁波精密机械有限公司", "tax_number": "91330206MA2AXXXX1X", "email": "finance@example.com"}
    created = post(mine, f"{API}/bills/{bill.pk}/invoice-requests", data, key="inv-1")
    assert created.status_code == 201
    again = post(mine, f"{API}/bills/{bill.pk}/invoice-requests", data, key="inv-1")
    assert again.json()["id"] == created.json()["id"]
    request_id = created.json()["id"]
    assert post(mine, f"{API}/invoice-requests/{request_id}/issue", {"invoice_number": "1"}).status_code == 403
    office = api_client_for(p.agent)
    assert post(office, f"{API}/invoice-requests/{request_id}/reject", {"reason": ""}).status_code == 422
    answer = post(office, f"{API}/invoice-requests/{request_id}/issue", {"invoice_number": "04400123"})
    assert answer.status_code == 200 and answer.json()["status"] == InvoiceRequestStatus.ISSUED
    assert post(office, f"{API}/invoice-requests/{request_id}/reject", {"reason": "late"}).status_code == 409


def test_a_status_cannot_be_sent_and_unknown_fields_are_refused(visit, api_client_for):
    p = visit
    bill = issued(p)
    answer = post(
        api_client_for(p.agent), f"{API}/bills/{bill.pk}/payments", {"amount": "10", "method": "cash", "status": "paid"}
    )
    assert answer.status_code == 422
    assert not Payment.objects.exists()


def test_a_payment_time_without_a_zone_is_read_in_local_time_and_a_future_one_refused(visit, api_client_for):
    p = visit
    bill = issued(p)
    client = api_client_for(p.agent)
    import datetime as dt

    from django.utils import timezone

    later = (timezone.localtime() + dt.timedelta(days=2)).replace(tzinfo=None)
    data = {"amount": "10", "method": "cash", "paid_at": later.isoformat()}
    answer = post(client, f"{API}/bills/{bill.pk}/payments", data)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "paid_at"]
    assert not Payment.objects.exists()
    data["paid_at"] = (later - dt.timedelta(days=4)).isoformat()
    assert post(client, f"{API}/bills/{bill.pk}/payments", data).status_code == 201
