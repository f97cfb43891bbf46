"""Online payment through the sandbox gateway, driven over HTTP as a customer would: the follow
link's Pay button → the sandbox page → its Pay button posts the signed notice → the bill is paid.
A replayed notice records one payment; a forged signature or amount is a 400 and writes nothing.
And the pages: customers of another request cannot pay or see the bill; the back office's pages."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from fieldservice.billing.choices import BillStatus, InvoiceRequestStatus, OnlinePaymentStatus, PaymentMethod
from fieldservice.billing.models import Bill, InvoiceRequest, OnlinePayment, Payment
from fieldservice.billing.services.charges import draft_bill, issue_bill, record_payment
from fieldservice.core.models import Event
from tests import factories
from tests.billing.charges_helpers import priced

pytestmark = pytest.mark.django_db


def issued(p):
    priced(p)
    return issue_bill(draft_bill(p.order, actor=p.agent), actor=p.agent)


def follow_url(p):
    return reverse("portal:follow", args=[p.order.request.follow_token])


def start(client, p, method=PaymentMethod.WECHAT_PAY):
    token = p.order.request.follow_token
    return client.post(reverse("portal:pay", args=[token, p.order.pk]), {"method": method})


def sandbox_form(client, start_response, form="pay_fields"):
    """The sandbox page the start redirected to, and the fields of one of its buttons' forms."""
    assert start_response.status_code == 302
    page = client.get(start_response["Location"])
    assert page.status_code == 200
    return page, dict(page.context[form])


def notify(client, fields, gateway="sandbox"):
    return client.post(reverse("billing:payment_notify", args=[gateway]), fields)


def test_a_customer_pays_through_the_sandbox_end_to_end(visit):
    p = visit
    bill = issued(p)
    client = Client()
    page = client.get(follow_url(p))
    assert b"Pay with WeChat Pay" in page.content and b"Pay with Alipay" in page.content
    assert "690.50" in page.content.decode()

    started = start(client, p)
    online = OnlinePayment.objects.get()
    assert online.amount == Decimal("690.50") and online.status == OnlinePaymentStatus.PENDING
    assert started["Location"].startswith(reverse("billing:sandbox_pay", args=[online.token]))
    page, fields = sandbox_form(client, started)
    assert "690.50" in page.content.decode()
    assert reverse("billing:payment_notify", args=["sandbox"]).encode() in page.content

    # The notify endpoint is called without a CSRF token, as a provider would call it.
    answer = notify(Client(enforce_csrf_checks=True), fields)
    assert answer.status_code == 302 and answer["Location"].startswith(follow_url(p))
    bill.refresh_from_db()
    online.refresh_from_db()
    assert bill.status == BillStatus.PAID and bill.paid == Decimal("690.50")
    assert online.status == OnlinePaymentStatus.SUCCEEDED
    payment = Payment.objects.get()
    assert payment.online_payment == online and payment.method == PaymentMethod.WECHAT_PAY
    assert payment.reference == online.gateway_reference != ""
    event = Event.objects.get(action="payment_recorded")
    assert event.changes["status"] == ["Issued", "Paid"]

    page = client.get(follow_url(p))
    assert b"Pay with WeChat Pay" not in page.content


def test_the_same_notice_twice_records_one_payment(visit):
    p = visit
    bill = issued(p)
    client = Client()
    _page, fields = sandbox_form(client, start(client, p, PaymentMethod.ALIPAY))
    assert notify(client, fields).status_code == 302
    assert notify(client, fields).status_code == 302
    assert Payment.objects.count() == 1
    bill.refresh_from_db()
    assert bill.paid == Decimal("690.50")
    assert Event.objects.filter(action="payment_recorded").count() == 1


def test_a_forged_signature_is_refused_and_nothing_written(visit):
    p = visit
    bill = issued(p)
    client = Client()
    _page, fields = sandbox_form(client, start(client, p))
    for forged in (
        {**fields, "signature": "0" * 64},
        {**fields, "amount": "1.00"},  # the amount changed after signing
        {**fields, "signature": ""},
        {key: value for key, value in fields.items() if key != "signature"},
    ):
        assert notify(client, forged).status_code == 400
    assert notify(client, fields, gateway="paypal").status_code == 400
    assert not Payment.objects.exists()
    bill.refresh_from_db()
    assert bill.paid == 0 and bill.status == BillStatus.ISSUED
    assert OnlinePayment.objects.get().status == OnlinePaymentStatus.PENDING


def test_a_signed_notice_of_another_amount_is_refused(visit):
    from fieldservice.billing.gateways import SANDBOX, sign

    p = visit
    issued(p)
    client = Client()
    _page, fields = sandbox_form(client, start(client, p))
    fields = {**fields, "amount": "100.00"}
    del fields["signature"]
    fields["signature"] = sign(SANDBOX.name, fields)  # even signed, it is not what was asked
    assert notify(client, fields).status_code == 400
    assert not Payment.objects.exists()


def test_a_failed_payment_records_nothing_and_the_bill_stays_open(visit):
    p = visit
    bill = issued(p)
    client = Client()
    _page, fields = sandbox_form(client, start(client, p), form="fail_fields")
    assert notify(client, fields).status_code == 302
    assert OnlinePayment.objects.get().status == OnlinePaymentStatus.FAILED
    assert not Payment.objects.exists()
    bill.refresh_from_db()
    assert bill.open_amount == Decimal("690.50")


def test_a_notice_above_what_is_still_open_is_refused(visit):
    p = visit
    bill = issued(p)
    client = Client()
    _page, fields = sandbox_form(client, start(client, p))
    # Meanwhile the office recorded a bank transfer of part of the bill.
    record_payment(bill, actor=p.agent, amount="100.00", method=PaymentMethod.BANK_TRANSFER)
    assert notify(client, fields).status_code == 400
    bill.refresh_from_db()
    assert bill.paid == Decimal("100.00")
    assert Payment.objects.count() == 1


def test_another_request_s_follow_link_cannot_pay_or_see_the_bill(visit):
    p = visit
    issued(p)
    other_request = factories.service_request(p.customer_z, actor=p.agent)
    client = Client()
    # The other request's token with this order's id: not found, nothing started.
    answer = client.post(reverse("portal:pay", args=[other_request.follow_token, p.order.pk]), {"method": "alipay"})
    assert answer.status_code == 404
    answer = client.post(
        reverse("portal:invoice", args=[other_request.follow_token, p.order.pk]),
        {"title": "Z Ltd", "tax_number": "91330206MA2AXXXX1X"},
    )
    assert answer.status_code == 404
    page = client.get(reverse("portal:follow", args=[other_request.follow_token]))
    assert b"Pay with" not in page.content and b"BL" not in page.content
    assert not OnlinePayment.objects.exists() and not InvoiceRequest.objects.exists()


def test_a_draft_bill_is_not_shown_on_the_follow_link(visit):
    p = visit
    priced(p)
    draft_bill(p.order, actor=p.agent)
    page = Client().get(follow_url(p))
    assert b"Your bill" not in page.content
    answer = start(Client(), p)
    assert answer.status_code == 404
    assert not OnlinePayment.objects.exists()


def test_an_invoice_is_requested_through_the_follow_link(visit):
    p = visit
    bill = issued(p)
    client = Client()
    url = reverse("portal:invoice", args=[p.order.request.follow_token, p.order.pk])
    answer = client.post(url, {"title": "宁波精密机械有限公司", "tax_number": "91330206ma2axxxx1x"})
    assert answer.status_code == 200
    assert "capital letters" in answer.content.decode()
    assert not InvoiceRequest.objects.exists()
    answer = client.post(url, {"title": "宁波精密机械有限公司", "tax_number": "91330206MA2AXXXX1X"})
    assert answer.status_code == 302
    request = InvoiceRequest.objects.get()
    assert request.bill == bill and request.status == InvoiceRequestStatus.REQUESTED
    assert request.requested_by is None


def test_the_back_office_pages(visit, client_for):
    p = visit
    priced(p)
    client = client_for(p.agent)
    order_page = client.get(reverse("workorders:order_detail", args=[p.order.pk]))
    assert b'id="order-bill"' in order_page.content and b"draft-bill" in order_page.content
    answer = client.post(reverse("billing:order_bill", args=[p.order.pk]))
    bill = Bill.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("billing:bill_detail", args=[bill.pk])
    detail = reverse("billing:bill_detail", args=[bill.pk])
    assert client.get(detail).status_code == 200
    assert client.post(reverse("billing:bill_issue", args=[bill.pk]), {"due_on": ""}).status_code == 302
    answer = client.post(reverse("billing:bill_payment", args=[bill.pk]), {"amount": "9999", "method": "cash"})
    assert answer.status_code == 400 and "open amount" in answer.content.decode()
    assert not Payment.objects.exists()
    answer = client.post(
        reverse("billing:bill_payment", args=[bill.pk]), {"amount": "90.50", "method": "cash", "reference": "R-1"}
    )
    assert answer.status_code == 302
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTLY_PAID
    listing = client.get(reverse("billing:bill_list"), {"status": "partly_paid"})
    assert bill.number in listing.content.decode()
    assert client.get(reverse("billing:bill_list"), {"status": "paid"}).content.decode().count(bill.number) == 0
    export = client.get(reverse("billing:bill_list"), {"export": "xlsx"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    receivables = client.get(reverse("billing:receivables"))
    assert p.customer_cn.name in receivables.content.decode()
    assert client.get(reverse("billing:receivables"), {"export": "xlsx"}).status_code == 200
    answer = client.post(reverse("billing:bill_write_off", args=[bill.pk]), {"reason": "Goodwill"})
    bill.refresh_from_db()
    assert bill.status == BillStatus.WRITTEN_OFF


def test_outsiders_are_kept_out_of_the_back_office_pages(visit, client_for):
    p = visit
    bill = issued(p)
    for outsider in (p.customer_user_z, p.engineer, p.provider_admin, p.dispatcher):
        client = client_for(outsider)
        assert client.get(reverse("billing:bill_list")).status_code == 403
        assert client.get(reverse("billing:bill_detail", args=[bill.pk])).status_code == 403
        answer = client.post(reverse("billing:bill_payment", args=[bill.pk]), {"amount": "1", "method": "cash"})
        assert answer.status_code == 403
    assert not Payment.objects.exists()
