"""Payments at the same moment (PostgreSQL): the bill's row lock makes them queue, so the second
sees what the first left open and the bill is never paid above its total."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fieldservice.billing.choices import BillStatus, PaymentMethod
from fieldservice.billing.models import Bill, Payment
from fieldservice.billing.services.charges import draft_bill, issue_bill, record_payment
from fieldservice.core.models import Event
from tests.billing.charges_helpers import priced
from tests.concurrency import concurrent_rounds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

THREADS = 4
ROUNDS = 3


def test_two_payments_at_once_never_overpay(visit):
    p = visit
    priced(p)  # 690.50 chargeable
    bill = issue_bill(draft_bill(p.order, actor=p.agent), actor=p.agent)

    def pay(bill_id):
        return record_payment(
            Bill.objects.get(pk=bill_id), actor=p.agent, amount="400.00", method=PaymentMethod.BANK_TRANSFER
        )

    with concurrent_rounds(*[pay for _ in range(THREADS)]) as run_round:
        outcomes = run_round(bill.pk)

    succeeded = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "error"]
    # 400 fits once into 690.50; every other payment saw only 290.50 open.
    assert len(succeeded) == 1
    assert len(refused) == THREADS - 1
    for error in refused:
        assert isinstance(error, ValidationError), error
        assert error.error_dict["amount"][0].code == "above_open_amount"
    bill.refresh_from_db()
    assert bill.paid == Decimal("400.00") and bill.status == BillStatus.PARTLY_PAID
    assert Payment.objects.count() == 1
    assert Event.objects.filter(action="payment_recorded").count() == 1


def test_payments_that_together_settle_the_bill_add_up_exactly(visit):
    p = visit
    priced(p)
    bill = issue_bill(draft_bill(p.order, actor=p.agent), actor=p.agent)

    def pay(amount):
        return record_payment(Bill.objects.get(pk=bill.pk), actor=p.agent, amount=amount, method=PaymentMethod.CASH)

    refused = 0
    with concurrent_rounds(*[pay for _ in range(THREADS)]) as run_round:
        for _round in range(ROUNDS):
            for kind, value in run_round("100.00"):
                if kind == "error":
                    assert isinstance(value, ValidationError), value
                    refused += 1
    bill.refresh_from_db()
    paid = Decimal("100.00") * Payment.objects.count()
    # 12 payments of 100 asked of 690.50: six fit, whatever the order they arrived in.
    assert Payment.objects.count() == 6 and refused == THREADS * ROUNDS - 6
    assert bill.paid == paid == Decimal("600.00")
    # Each payment's event starts from what the one before left: none read a stale balance.
    befores = [Decimal(e.changes["paid"][0]) for e in Event.objects.filter(action="payment_recorded").order_by("pk")]
    assert befores == [Decimal("100.00") * i for i in range(6)]
