"""Bills, payments and invoice requests (billing.services.charges): a bill from the chargeable
lines only, its states, payments never above the open amount, tax numbers checked, events with
before → after, and receivables by age."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.billing import selectors
from fieldservice.billing.choices import BillStatus, InvoiceRequestStatus, PaymentMethod
from fieldservice.billing.models import Bill, BillLine, InvoiceRequest, OrderMargin, Payment
from fieldservice.billing.services.charges import (
    check_tax_number,
    draft_bill,
    issue_bill,
    issue_invoice,
    record_payment,
    reject_invoice_request,
    request_invoice,
    write_off_bill,
)
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from tests.billing.charges_helpers import customer_user, fee, priced

pytestmark = pytest.mark.django_db


def events_of(bill, action=None):
    events = Event.objects.filter(object_pk=str(bill.pk), content_type__model="bill").order_by("pk")
    return events.filter(action=action) if action else events


def issued(p, **kwargs):
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    return issue_bill(bill, actor=p.agent, **kwargs)


def test_a_bill_is_drafted_from_the_chargeable_lines_only(visit):
    p = visit
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    assert bill.status == BillStatus.DRAFT
    assert bill.customer == p.order.customer
    assert bill.number.startswith("BL")
    assert bill.total == Decimal("690.50")
    assert sorted(bill.lines.values_list("description", flat=True)) == ["Labour 3 h", "Travel 30 km"]
    assert bill.open_amount == 0  # a draft is owed by nobody yet
    created = events_of(bill, "created").get()
    assert created.changes["total"] == [None, "690.50"]
    assert created.actor == p.agent


def test_drafting_again_replaces_the_lines_while_draft(visit):
    p = visit
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    fee(p.order, "100.00", description="Extra visit")
    again = draft_bill(p.order, actor=p.agent)
    assert again.pk == bill.pk
    assert again.total == Decimal("790.50")
    assert BillLine.objects.filter(bill=bill).count() == 3
    assert events_of(bill, "updated").get().changes["total"] == ["690.50", "790.50"]


def test_nothing_chargeable_is_refused_and_nothing_written(visit):
    p = visit
    fee(p.order, "500.00", payer="warranty")
    fee(p.order, "80.00", is_void=True)
    with pytest.raises(DomainError) as error:
        draft_bill(p.order, actor=p.agent)
    assert error.value.code == "nothing_to_charge"
    assert not Bill.objects.exists()


def test_an_issued_bill_is_not_drafted_again(visit):
    p = visit
    bill = issued(p)
    fee(p.order, "100.00")
    with pytest.raises(DomainError) as error:
        draft_bill(p.order, actor=p.agent)
    assert error.value.code == "bill_not_draft"
    bill.refresh_from_db()
    assert bill.total == Decimal("690.50")
    assert bill.lines.count() == 2


def test_issue_sets_the_due_date_thirty_days_ahead_by_default(visit):
    p = visit
    bill = issued(p)
    assert bill.status == BillStatus.ISSUED
    assert bill.due_on == timezone.localdate() + dt.timedelta(days=30)
    assert bill.open_amount == Decimal("690.50")
    event = events_of(bill, "bill_issued").get()
    assert event.changes["status"] == ["Draft", "Issued"]
    with pytest.raises(DomainError):
        issue_bill(bill, actor=p.agent)


def test_issue_refuses_a_due_date_in_the_past(visit):
    p = visit
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    with pytest.raises(ValidationError) as error:
        issue_bill(bill, actor=p.agent, due_on=timezone.localdate() - dt.timedelta(days=1))
    assert "due_on" in error.value.error_dict
    bill.refresh_from_db()
    assert bill.status == BillStatus.DRAFT and bill.due_on is None


def test_payments_move_the_bill_to_partly_paid_then_paid(visit):
    p = visit
    bill = issued(p)
    first = record_payment(bill, actor=p.agent, amount="500.00", method=PaymentMethod.BANK_TRANSFER, reference="TT-1")
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTLY_PAID
    assert bill.paid == Decimal("500.00") and bill.open_amount == Decimal("190.50")
    assert first.recorded_by == p.agent
    record_payment(bill, actor=p.agent, amount="190.50", method=PaymentMethod.WECHAT_PAY, reference="WX-9")
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and bill.open_amount == 0 and bill.paid_at is not None
    changes = [e.changes for e in events_of(bill, "payment_recorded")]
    assert changes[0]["paid"] == ["0.00", "500.00"]
    assert changes[0]["status"] == ["Issued", "Partly paid"]
    assert changes[1]["open_amount"] == ["190.50", "0.00"]
    assert changes[1]["status"] == ["Partly paid", "Paid"]


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("690.51", "above_open_amount"),
        ("0", "not_positive"),
        ("-5", "negative"),
        ("99999999999", "invalid"),
        ("1.234", "invalid"),
        ("lots", "invalid"),
        ("", "required"),
    ],
)
def test_a_bad_amount_names_the_field_and_writes_nothing(visit, amount, code):
    p = visit
    bill = issued(p)
    events = events_of(bill).count()
    with pytest.raises(ValidationError) as error:
        record_payment(bill, actor=p.agent, amount=amount, method=PaymentMethod.CASH)
    assert error.value.error_dict["amount"][0].code == code
    bill.refresh_from_db()
    assert bill.paid == 0 and bill.status == BillStatus.ISSUED
    assert not Payment.objects.exists()
    assert events_of(bill).count() == events


def test_an_unknown_method_is_refused(visit):
    p = visit
    bill = issued(p)
    with pytest.raises(ValidationError) as error:
        record_payment(bill, actor=p.agent, amount="10", method="bitcoin")
    assert "method" in error.value.error_dict
    assert not Payment.objects.exists()


def test_a_payment_on_a_draft_or_paid_bill_is_refused(visit):
    p = visit
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    with pytest.raises(DomainError):
        record_payment(bill, actor=p.agent, amount="10", method=PaymentMethod.CASH)
    issue_bill(bill, actor=p.agent)
    record_payment(bill, actor=p.agent, amount="690.50", method=PaymentMethod.CASH)
    with pytest.raises(DomainError):
        record_payment(bill, actor=p.agent, amount="0.01", method=PaymentMethod.CASH)
    assert Payment.objects.count() == 1


def test_write_off_needs_a_reason(visit):
    p = visit
    bill = issued(p)
    record_payment(bill, actor=p.agent, amount="90.50", method=PaymentMethod.CASH)
    with pytest.raises(ValidationError) as error:
        write_off_bill(bill, actor=p.agent, reason="  ")
    assert "reason" in error.value.error_dict
    bill.refresh_from_db()
    assert bill.status == BillStatus.PARTLY_PAID
    write_off_bill(bill, actor=p.agent, reason="Customer went bankrupt")
    bill.refresh_from_db()
    assert bill.status == BillStatus.WRITTEN_OFF and bill.open_amount == 0
    event = events_of(bill, "bill_written_off").get()
    assert event.changes["open_amount"] == ["600.00", "0"]
    assert event.note == "Customer went bankrupt"
    with pytest.raises(DomainError):
        record_payment(bill, actor=p.agent, amount="1", method=PaymentMethod.CASH)


def test_bills_do_not_touch_margins(visit):
    p = visit
    bill = issued(p)
    record_payment(bill, actor=p.agent, amount="690.50", method=PaymentMethod.CASH)
    assert not OrderMargin.objects.filter(work_order=p.order).exists()


def test_only_the_back_office_moves_bills(visit):
    p = visit
    priced(p)
    for outsider in (p.engineer, p.dispatcher, p.provider_admin, p.customer_user_a):
        with pytest.raises(PermissionDenied):
            draft_bill(p.order, actor=outsider)
    assert not Bill.objects.exists()
    bill = issue_bill(draft_bill(p.order, actor=p.agent), actor=p.agent)
    with pytest.raises(PermissionDenied):
        record_payment(bill, actor=customer_user(p), amount="10", method=PaymentMethod.CASH)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("91330206MA2AXXX1", "invalid_length"),  # 16
        ("91330206MA2AXXXX1X0", "invalid_length"),  # 19
        ("9133020", "invalid_length"),
        ("91330206ma2axxxx1x", "invalid_characters"),
        ("91330206-MA2AXXX1X", "invalid_characters"),
        ("", "required"),
    ],
)
def test_tax_numbers_are_checked(number, code):
    with pytest.raises(ValidationError) as error:
        check_tax_number(number)
    assert error.value.error_dict["tax_number"][0].code == code


@pytest.mark.parametrize(
    "number",
    ["91330206MA2AXXXX1X", "330206123456789", "33020612345678901", "33020612345678901234", " 91330206 MA2AXXXX1X "],
)
def test_valid_tax_numbers_pass(number):
    assert check_tax_number(number) == number.replace(" ", "")


def test_an_invoice_request_is_issued_or_rejected(visit):
    p = visit
    bill = issued(p)
    customer = customer_user(p)
    with pytest.raises(ValidationError) as error:
        request_invoice(bill, actor=customer, title="宁波精密机械有限公司", tax_number="91330206MA2AXXX1")
    assert "tax_number" in error.value.error_dict
    assert not InvoiceRequest.objects.exists()
    first = request_invoice(bill, actor=customer, title="宁波精密机械有限公司", tax_number="91330206MA2AXXXX1X")
    assert first.status == InvoiceRequestStatus.REQUESTED and first.requested_by == customer
    with pytest.raises(DomainError):
        request_invoice(bill, actor=customer, title="Again", tax_number="91330206MA2AXXXX1X")
    with pytest.raises(PermissionDenied):
        issue_invoice(first, actor=customer, invoice_number="044001")
    with pytest.raises(ValidationError):
        reject_invoice_request(first, actor=p.agent, reason="")
    reject_invoice_request(first, actor=p.agent, reason="Title does not match the tax number")
    first.refresh_from_db()
    assert first.status == InvoiceRequestStatus.REJECTED
    second = request_invoice(bill, actor=customer, title="宁波精密机械有限公司", tax_number="91330206MA2AXXXX1X")
    issue_invoice(second, actor=p.agent, invoice_number="04400123")
    second.refresh_from_db()
    assert second.status == InvoiceRequestStatus.ISSUED and second.invoice_number == "04400123"
    with pytest.raises(DomainError):
        issue_invoice(second, actor=p.agent, invoice_number="x")
    actions = list(events_of(bill).values_list("action", flat=True))
    assert actions.count("invoice_requested") == 2
    assert "invoice_rejected" in actions and "invoice_issued" in actions


def test_another_company_may_not_ask_for_an_invoice(visit):
    p = visit
    bill = issued(p)
    for outsider in (p.customer_user_z, p.customer_user_a, p.engineer):
        with pytest.raises(PermissionDenied):
            request_invoice(bill, actor=outsider, title="Z Ltd", tax_number="91330206MA2AXXXX1X")
    with pytest.raises(PermissionDenied):
        request_invoice(bill, actor=None, follow_token="wrong-token", title="Z", tax_number="91330206MA2AXXXX1X")
    assert not InvoiceRequest.objects.exists()


def test_customers_see_only_their_own_issued_bills(visit):
    p = visit
    priced(p)
    bill = draft_bill(p.order, actor=p.agent)
    mine = customer_user(p)
    assert not selectors.bills_for(mine).exists()  # a draft is not shown to the customer
    issue_bill(bill, actor=p.agent)
    assert list(selectors.bills_for(mine)) == [bill]
    for outsider in (p.customer_user_z, p.customer_user_a, p.engineer, p.provider_admin):
        assert not selectors.bills_for(outsider).exists()
    assert list(selectors.bills_for(p.director)) == [bill]


def _bill_due(p, customer_order, amount, due_on):
    fee(customer_order, amount)
    bill = draft_bill(customer_order, actor=p.agent)
    issue_bill(bill, actor=p.agent)
    Bill.objects.filter(pk=bill.pk).update(due_on=due_on)
    return bill


def test_receivables_are_aged_by_days_past_due(visit):
    from fieldservice.workorders.services.intake import create_work_order
    from tests import factories

    p = visit
    today = dt.date(2026, 6, 30)

    def order():
        request = factories.service_request(p.customer_cn, actor=p.agent, equipment=p.machine, contact=p.contact_cn)
        return create_work_order(request, actor=p.agent)

    _bill_due(p, p.order, "100.00", today)  # due today: not due
    _bill_due(p, order(), "200.00", today - dt.timedelta(days=1))
    _bill_due(p, order(), "300.00", today - dt.timedelta(days=30))
    _bill_due(p, order(), "400.00", today - dt.timedelta(days=31))
    _bill_due(p, order(), "500.00", today - dt.timedelta(days=90))
    partly = _bill_due(p, order(), "600.00", today - dt.timedelta(days=91))
    record_payment(partly, actor=p.agent, amount="50.00", method=PaymentMethod.CASH)
    written_off = _bill_due(p, order(), "999.00", today - dt.timedelta(days=200))
    write_off_bill(written_off, actor=p.agent, reason="Lost")
    paid = _bill_due(p, order(), "77.00", today - dt.timedelta(days=200))
    record_payment(paid, actor=p.agent, amount="77.00", method=PaymentMethod.CASH)

    rows = list(selectors.receivables_for(p.agent, today=today))
    assert len(rows) == 1
    row = rows[0]
    assert row["customer_id"] == p.customer_cn.pk and row["bills"] == 6
    assert row["not_due"] == Decimal("100.00")
    assert row["days_1_30"] == Decimal("500.00")
    assert row["days_31_60"] == Decimal("400.00")
    assert row["days_61_90"] == Decimal("500.00")
    assert row["over_90"] == Decimal("550.00")
    assert row["open_total"] == Decimal("2050.00")
    assert list(selectors.receivables_for(p.customer_user_z, today=today)) == []
    assert [r["open_total"] for r in selectors.receivables_for(customer_user(p), today=today)] == [Decimal("2050.00")]
