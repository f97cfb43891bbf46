"""What each user may see of billing. The back office (VIEW_BILLING) sees every bill; a customer
user only his own company's bills once issued (never a draft); anyone else none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.billing.choices import BillStatus
from fieldservice.billing.models import Bill, InvoiceRequest
from fieldservice.billing.permissions import is_customer, may_view_billing

ZERO = Decimal("0")
OPEN_STATUSES = (BillStatus.ISSUED, BillStatus.PARTLY_PAID)

# The ageing buckets of receivables: (key, days past due from, to); None is open-ended.
AGEING = (
    ("not_due", None, 0),
    ("days_1_30", 1, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("over_90", 91, None),
)


def bills_for(actor: User) -> QuerySet[Bill]:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Bill.objects.none()
    bills = Bill.objects.select_related("customer", "work_order")
    if may_view_billing(actor) and not is_customer(actor):
        return bills
    if is_customer(actor) and actor.organisation_id is not None:
        return bills.filter(customer__organisation_id=actor.organisation_id).exclude(status=BillStatus.DRAFT)
    return Bill.objects.none()


def get_bill_for(actor: User, pk: int) -> Bill:
    return get_object_or_404(bills_for(actor), pk=pk)


def bill_of_order(order) -> Bill | None:
    """The order's bill, for pages that already scoped the order (the follow link, the order page)."""
    return Bill.objects.filter(work_order_id=order.pk).select_related("customer").first()


def invoice_requests_for(actor: User) -> QuerySet[InvoiceRequest]:
    return InvoiceRequest.objects.filter(bill__in=bills_for(actor)).select_related("bill")


def get_invoice_request_for(actor: User, pk: int) -> InvoiceRequest:
    return get_object_or_404(invoice_requests_for(actor), pk=pk)


def _open_amount():
    return F("total") - F("paid")


def receivables_for(actor: User, *, today: dt.date | None = None, customer_id: int | None = None) -> QuerySet:
    """What each customer owes on issued bills, per currency, with its ageing by days past the
    due date: rows of customer_id, customer__name, currency, bills, open_total and one sum per
    bucket of AGEING."""
    today = today or timezone.localdate()
    bills = bills_for(actor).filter(status__in=OPEN_STATUSES)
    if customer_id:
        bills = bills.filter(customer_id=customer_id)
    money = DecimalField(max_digits=14, decimal_places=2)
    sums = {}
    for key, start, end in AGEING:
        # Days past due d = today - due_on; d in [start, end] means due_on in [today - end, today - start].
        condition = Q()
        if key == "not_due":
            condition = Q(due_on__isnull=True) | Q(due_on__gte=today)
        else:
            condition &= Q(due_on__lte=today - dt.timedelta(days=start))
            if end is not None:
                condition &= Q(due_on__gte=today - dt.timedelta(days=end))
        sums[key] = Coalesce(
            Sum(Case(When(condition, then=_open_amount()), default=Value(ZERO), output_field=money)),
            Value(ZERO),
            output_field=money,
        )
    return (
        bills.values("customer_id", "customer__name", "currency")
        .annotate(
            bills=Count("pk"),
            open_total=Coalesce(Sum(_open_amount(), output_field=money), Value(ZERO), output_field=money),
            **sums,
        )
        .order_by("-open_total", "customer__name")
    )
