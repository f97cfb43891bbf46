"""What each user may see of billing.

Quotations: the back office sees every one; an engineer or a provider's administrator the
quotations of the orders they may see (workorders.selectors.work_orders_for); a customer his own
company's, once sent (never a draft); anyone else none. A lookup of one quotation 404s for missing and not-yours alike.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.billing.choices import BillStatus, FeeSource, Payer, QuotationStatus
from fieldservice.billing.models import Bill, FeeLine, Quotation, QuotationVersion
from fieldservice.billing.permissions import is_customer, may_view_billing
from fieldservice.customers.models import Customer
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for

__all__ = [
    "author_context",
    "awaiting_decision",
    "estimated_profit",
    "fee_lines_from_quotation",
    "get_quotation_for",
    "last_prices",
    "last_prices_of_lines",
    "open_receivables",
    "quotations_for",
    "quotations_of_order",
    "quotations_on_follow_link",
    "search_quotations",
    "version_of",
]

ZERO = Decimal("0")
OPEN_BILL_STATUSES = (BillStatus.ISSUED, BillStatus.PARTLY_PAID)


# Quotations ---------------------------------------------------------------------------------------


def quotations_for(actor: User) -> QuerySet[Quotation]:
    quotations = Quotation.objects.select_related("work_order", "customer", "created_by")
    if not getattr(actor, "is_authenticated", False):
        return quotations.none()
    if is_customer(actor):
        return quotations.filter(customer__organisation_id=actor.organisation_id).exclude(status=QuotationStatus.DRAFT)
    if may_view_billing(actor):
        return quotations
    # Only those who work on orders (engineers, a provider's administrator): a dispatcher or a
    # parts keeper sees every order but no money, as with fee lines (see fee_orders_for).
    if can(actor, Capability.WORK_IN_FIELD) or can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        return quotations.filter(work_order__in=work_orders_for(actor).values("pk"))
    return quotations.none()


def get_quotation_for(actor: User, pk: int) -> Quotation:
    return get_object_or_404(quotations_for(actor), pk=pk)


def quotations_of_order(actor: User, order: WorkOrder) -> QuerySet[Quotation]:
    return quotations_for(actor).filter(work_order=order).order_by("-created_at", "-pk")


def version_of(quotation: Quotation, number=None) -> QuotationVersion:
    """The numbered version of the quotation (the current one when `number` is None)."""
    if number is None:
        number = quotation.version
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number <= quotation.version:
        raise Http404
    return get_object_or_404(
        QuotationVersion.objects.select_related("quotation", "created_by").prefetch_related("lines__part"),
        quotation=quotation,
        number=number,
    )


def awaiting_decision(order: WorkOrder) -> Quotation | None:
    """The order's sent quotation the customer has still to decide (the follow link shows it)."""
    return (
        Quotation.objects.filter(work_order=order, status=QuotationStatus.SENT).order_by("-created_at", "-pk").first()
    )


def quotations_on_follow_link(order: WorkOrder) -> QuerySet[Quotation]:
    """What the customer sees of an order's quotations on his follow link: every one once sent."""
    return (
        Quotation.objects.filter(work_order=order).exclude(status=QuotationStatus.DRAFT).order_by("-created_at", "-pk")
    )


# The author's context --------------------------------------------------------------------------------


def last_prices(
    customer: Customer, *, part=None, kind: str = "", description: str = "", limit: int = 3, excluding=None
) -> list[dict]:
    """What this customer last paid for the same item, newest first: the same part, or the same
    kind and description (case-insensitive), from the fee lines he pays on his own orders
    (`excluding`: a quotation whose own approved lines are not "earlier" prices)."""
    lines = FeeLine.objects.filter(work_order__customer=customer, payer=Payer.CUSTOMER, is_void=False)
    if excluding is not None:
        lines = lines.exclude(quotation=excluding)
    part_id = getattr(part, "pk", part)
    if part_id:
        lines = lines.filter(part_id=part_id)
    elif kind and description:
        lines = lines.filter(kind=kind, description__iexact=description.strip())
    else:
        return []
    return list(
        lines.order_by("-created_at", "-pk").values(
            "unit_price",
            "discount",
            "quantity",
            "amount",
            "currency",
            "created_at",
            order_number=F("work_order__number"),
            order_id=F("work_order_id"),
        )[:limit]
    )


def last_prices_of_lines(customer: Customer, lines, excluding=None) -> list[list[dict]]:
    """`last_prices` of each line (QuotationLine rows or line dicts), in order."""
    found = []
    for line in lines:
        get = line.get if isinstance(line, dict) else lambda name, _line=line: getattr(_line, name, None)
        found.append(
            last_prices(
                customer,
                part=get("part"),
                kind=get("kind") or "",
                description=get("description") or "",
                excluding=excluding,
            )
        )
    return found


def open_receivables(customer: Customer) -> dict[str, Decimal]:
    """What the customer still owes on issued bills, per currency (total − paid)."""
    rows = (
        Bill.objects.filter(customer=customer, status__in=OPEN_BILL_STATUSES)
        .values("currency")
        .annotate(open=Sum(F("total") - F("paid")))
        .order_by("currency")
    )
    return {row["currency"]: row["open"] or ZERO for row in rows}


def estimated_profit(version: QuotationVersion) -> dict[str, Decimal]:
    """The quote's price before tax, its estimated cost and the profit (price − cost)."""
    price = version.subtotal - version.discount
    return {"price": price, "cost": version.cost, "profit": price - version.cost}


def author_context(customer: Customer, version: QuotationVersion | None = None, lines=None) -> dict:
    """Beside the quotation form: the last prices of its items, the open receivables and the
    estimated profit. Costs and profit are for the back office and engineers, never a customer."""
    rows = list(version.lines.all()) if version is not None and lines is None else list(lines or [])
    return {
        "last_prices": last_prices_of_lines(customer, rows, version.quotation if version is not None else None),
        "receivables": open_receivables(customer),
        "profit": estimated_profit(version) if version is not None else None,
    }


def fee_lines_from_quotation(quotation: Quotation) -> QuerySet[FeeLine]:
    return FeeLine.objects.filter(quotation=quotation, source=FeeSource.QUOTATION).order_by("pk")


def search_quotations(quotations: QuerySet[Quotation], text: str) -> QuerySet[Quotation]:
    text = text.strip()
    if not text:
        return quotations
    return quotations.filter(
        Q(number__icontains=text) | Q(work_order__number__icontains=text) | Q(customer__name__icontains=text)
    )
