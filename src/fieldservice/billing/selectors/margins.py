"""What a user may see of billing, scoped once here.

Cost and margin (`may_see_margins`: our own back office only) — per order from the `OrderMargin`
rows `services.margins.refresh` keeps, and added up per contract, per customer and per engineer.
An order counts in a period by its `booked_on` day (closed, else completed, else created).

A contract's fee (`Contract.annual_fee`, "Contract fee" on its page) is the fee of its whole term,
earned evenly day by day from `starts_on` to `ends_on` (both included): over a date range a contract
counts the share of its fee for the days of its term inside the range, and without a range the
whole fee. Only contracts that ran (active or expired) earn their fee: a draft was never agreed, and
what a terminated contract still brings depends on its refund, which is not recorded. A contract's
revenue is its fee plus what its orders charged the customer (parts it does not cover, say); its
cost is the cost of its orders; the customer's revenue counts its contracts' fees the same way.
Amounts are added up per currency: a party with orders in two currencies has a row for each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404

from fieldservice.accounts.models import User
from fieldservice.billing.models import OrderMargin
from fieldservice.billing.permissions import may_see_margins
from fieldservice.billing.services.margins import compute
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract
from fieldservice.contracts.selectors import contracts_for
from fieldservice.core.money import DEFAULT_CURRENCY, cents
from fieldservice.customers.models import Customer
from fieldservice.customers.selectors import customers_for
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for

ZERO = Decimal("0")
HUNDRED = Decimal("100")
PERCENT = Decimal("0.1")
# Contracts that earn their fee (see the module's docstring).
FEE_EARNING = (ContractStatus.ACTIVE, ContractStatus.EXPIRED)
ORDER_COST = F("parts_cost") + F("labour_cost") + F("travel_cost") + F("other_cost") + F("settlement_cost")


def margin_percent(margin: Decimal, revenue: Decimal) -> Decimal | None:
    """The margin as a percentage of the revenue, to a tenth; None when nothing was earned."""
    if not revenue:
        return None
    return (margin * HUNDRED / revenue).quantize(PERCENT)


# --- per order ---


def margins_for(actor: User) -> QuerySet[OrderMargin]:
    """Every order's cost and margin row, for those who may see them; nothing for anyone else."""
    if not may_see_margins(actor):
        return OrderMargin.objects.none()
    return OrderMargin.objects.select_related("work_order", "customer", "contract", "engineer", "provider")


def in_period(margins: QuerySet[OrderMargin], date_from: dt.date | None, date_to: dt.date | None):
    if date_from is not None:
        margins = margins.filter(booked_on__gte=date_from)
    if date_to is not None:
        margins = margins.filter(booked_on__lte=date_to)
    return margins


def filter_margins(
    margins: QuerySet[OrderMargin],
    *,
    text: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    customer: int | None = None,
    contract: int | None = None,
    engineer: int | None = None,
    provider: int | None = None,
) -> QuerySet[OrderMargin]:
    margins = in_period(margins, date_from, date_to)
    if customer is not None:
        margins = margins.filter(customer_id=customer)
    if contract is not None:
        margins = margins.filter(contract_id=contract)
    if engineer is not None:
        margins = margins.filter(engineer_id=engineer)
    if provider is not None:
        margins = margins.filter(provider_id=provider)
    text = (text or "").strip()
    if text:
        margins = margins.filter(
            Q(work_order__number__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(contract__number__icontains=text)
        )
    return margins


def order_margins_for(actor: User, text: str = "", **filters) -> QuerySet[OrderMargin]:
    """The order list of cost and margin, filtered (see `filter_margins`)."""
    return filter_margins(margins_for(actor), text=text, **filters)


def get_order_margin_for(actor: User, order_id: int) -> OrderMargin:
    """One order's row; 404 when the order is missing, has no row yet, or is not the actor's to see."""
    try:
        return margins_for(actor).get(work_order_id=order_id)
    except OrderMargin.DoesNotExist:
        raise Http404 from None


def margin_of_order(actor: User, order: WorkOrder) -> OrderMargin | None:
    """The order's cost and margin for its page: the kept row, or the figures its lines make now
    when no row was kept yet; None for anyone who may not see costs or the order."""
    if not may_see_margins(actor) or not work_orders_for(actor).filter(pk=order.pk).exists():
        return None
    row = margins_for(actor).filter(work_order_id=order.pk).first()
    if row is None:
        rows = compute([order.pk])
        row = rows[0] if rows else None
    return row


def margin_engineers_for(actor: User) -> QuerySet[User]:
    """The engineers who led an order that has figures (the engineer filter's choices)."""
    if not may_see_margins(actor):
        return User.objects.none()
    return User.objects.filter(pk__in=OrderMargin.objects.filter(engineer__isnull=False).values("engineer"))


# --- added up per contract, customer and engineer ---


@dataclass
class MarginTotals:
    """One party's figures in one currency over a period. `revenue` is what its orders charged,
    `fee` the contract fees earned (contracts and customers only); the margin counts both."""

    pk: int
    name: str
    currency: str
    obj: Any = None
    orders: int = 0
    revenue: Decimal = ZERO
    fee: Decimal = ZERO
    cost: Decimal = ZERO
    extra: dict = field(default_factory=dict)

    @property
    def total_revenue(self) -> Decimal:
        return self.fee + self.revenue

    @property
    def margin(self) -> Decimal:
        return self.total_revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        return margin_percent(self.margin, self.total_revenue)

    def add_orders(self, figures: dict) -> None:
        self.orders += figures["orders"]
        self.revenue += figures["revenue"] or ZERO
        self.cost += figures["cost"] or ZERO


def _order_totals(margins: QuerySet[OrderMargin], key: str | None) -> list[dict]:
    """Orders, revenue and cost by `key` and currency (by currency alone when `key` is None)."""
    return list(
        margins.values(*(name for name in (key, "currency") if name))
        .annotate(orders=Count("pk"), revenue=Sum("revenue"), cost=Sum(ORDER_COST))
        .order_by()
    )


def contract_fee_in(contract: Contract, date_from: dt.date | None = None, date_to: dt.date | None = None) -> Decimal:
    """The part of the contract's fee earned between the dates (both included; None: open-ended),
    at an even rate per day of its term."""
    if contract.annual_fee is None or contract.status not in FEE_EARNING:
        return ZERO
    start = max(contract.starts_on, date_from) if date_from is not None else contract.starts_on
    end = min(contract.ends_on, date_to) if date_to is not None else contract.ends_on
    if end < start:
        return ZERO
    term = (contract.ends_on - contract.starts_on).days + 1
    days = (end - start).days + 1
    if days == term:
        return contract.annual_fee
    return cents(contract.annual_fee * days / term)


def _overlapping(contracts: QuerySet[Contract], date_from: dt.date | None, date_to: dt.date | None):
    if date_from is not None:
        contracts = contracts.filter(ends_on__gte=date_from)
    if date_to is not None:
        contracts = contracts.filter(starts_on__lte=date_to)
    return contracts


def _sorted(rows) -> list[MarginTotals]:
    # The largest accounts first; ties by name so pages are stable.
    return sorted(rows, key=lambda row: (-row.total_revenue, row.name.lower(), row.pk, row.currency))


def contract_margins_for(
    actor: User,
    *,
    text: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    contract: int | None = None,
    customer: int | None = None,
) -> list[MarginTotals]:
    """Per contract: the fee earned in the period, what its orders charged and cost, the margin.
    A contract is listed when its term meets the period or one of its orders counts in it."""
    if not may_see_margins(actor):
        return []
    contracts = contracts_for(actor).exclude(status=ContractStatus.DRAFT)
    if contract is not None:
        contracts = contracts.filter(pk=contract)
    if customer is not None:
        contracts = contracts.filter(customer_id=customer)
    text = (text or "").strip()
    if text:
        contracts = contracts.filter(Q(number__icontains=text) | Q(customer__name__icontains=text))
    margins = in_period(OrderMargin.objects.filter(contract__in=contracts), date_from, date_to)
    with_orders = margins.values("contract_id")
    shown = (
        contracts.filter(Q(pk__in=_overlapping(contracts, date_from, date_to).values("pk")) | Q(pk__in=with_orders))
        .select_related("customer")
        .order_by()
    )
    rows: dict[tuple[int, str], MarginTotals] = {}
    by_pk = {}
    for item in shown:
        by_pk[item.pk] = item
        rows[(item.pk, item.currency)] = _contract_row(item, item.currency, contract_fee_in(item, date_from, date_to))
    for figures in _order_totals(margins, "contract_id"):
        item = by_pk[figures["contract_id"]]
        key = (item.pk, figures["currency"])
        if key not in rows:
            rows[key] = _contract_row(item, figures["currency"], ZERO)
        rows[key].add_orders(figures)
    return _sorted(rows.values())


def _contract_row(contract: Contract, currency: str, fee: Decimal) -> MarginTotals:
    return MarginTotals(
        pk=contract.pk,
        name=contract.number,
        currency=currency,
        obj=contract,
        fee=fee,
        extra={"customer": contract.customer},
    )


def customer_margins_for(
    actor: User,
    *,
    text: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    customer: int | None = None,
) -> list[MarginTotals]:
    """Per customer: its orders' revenue and cost and its contracts' fees earned in the period.
    A customer is listed when one of its orders counts in the period or a contract earns in it."""
    if not may_see_margins(actor):
        return []
    customers = customers_for(actor)
    if customer is not None:
        customers = customers.filter(pk=customer)
    text = (text or "").strip()
    if text:
        customers = customers.filter(name__icontains=text)
    margins = in_period(OrderMargin.objects.filter(customer__in=customers), date_from, date_to)
    contracts = _overlapping(
        Contract.objects.filter(customer__in=customers, status__in=FEE_EARNING, annual_fee__isnull=False),
        date_from,
        date_to,
    )
    fees: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for item in contracts:
        fees[(item.customer_id, item.currency)] += contract_fee_in(item, date_from, date_to)
    figures_of = {(row["customer_id"], row["currency"]): row for row in _order_totals(margins, "customer_id")}
    keys = set(figures_of) | {key for key, fee in fees.items() if fee}
    names = Customer.objects.in_bulk({key[0] for key in keys})
    rows = []
    for pk, currency in keys:
        row = MarginTotals(
            pk=pk, name=names[pk].name, currency=currency, obj=names[pk], fee=fees.get((pk, currency), ZERO)
        )
        if (pk, currency) in figures_of:
            row.add_orders(figures_of[(pk, currency)])
        rows.append(row)
    return _sorted(rows)


def engineer_margins_for(
    actor: User,
    *,
    text: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    engineer: int | None = None,
) -> list[MarginTotals]:
    """Per lead engineer (ours or a provider's): the revenue, cost and margin of the orders he
    led that count in the period. Orders without an engineer (a provider's, not yet given to one
    of its people) are in no engineer's row."""
    if not may_see_margins(actor):
        return []
    margins = in_period(OrderMargin.objects.filter(engineer__isnull=False), date_from, date_to)
    if engineer is not None:
        margins = margins.filter(engineer_id=engineer)
    text = (text or "").strip()
    if text:
        margins = margins.filter(
            Q(engineer__username__icontains=text)
            | Q(engineer__display_name__icontains=text)
            | Q(engineer__first_name__icontains=text)
            | Q(engineer__last_name__icontains=text)
        )
    figures = _order_totals(margins, "engineer_id")
    people = User.objects.select_related("organisation").in_bulk({row["engineer_id"] for row in figures})
    rows = []
    for row in figures:
        person = people[row["engineer_id"]]
        organisation = person.organisation
        totals = MarginTotals(
            pk=person.pk,
            name=str(person),
            currency=row["currency"],
            obj=person,
            extra={"organisation": organisation.name if organisation is not None else ""},
        )
        totals.add_orders(row)
        rows.append(totals)
    return _sorted(rows)


def totals_of_orders(margins: QuerySet[OrderMargin]) -> list[MarginTotals]:
    """The orders' figures added up, one row per currency (a list's totals line)."""
    rows = []
    for figures in _order_totals(margins, None):
        totals = MarginTotals(pk=0, name="", currency=figures["currency"])
        totals.add_orders(figures)
        rows.append(totals)
    return sorted(rows, key=lambda row: row.currency)


def totals_of(rows: list[MarginTotals]) -> list[MarginTotals]:
    """Rows of parties added up, one row per currency (a list's totals line)."""
    by_currency: dict[str, MarginTotals] = {}
    for row in rows:
        totals = by_currency.setdefault(row.currency, MarginTotals(pk=0, name="", currency=row.currency))
        totals.orders += row.orders
        totals.revenue += row.revenue
        totals.fee += row.fee
        totals.cost += row.cost
    return sorted(by_currency.values(), key=lambda row: row.currency)


def margin_of_contract(actor: User, contract: Contract) -> list[MarginTotals]:
    """The contract's whole term, one row per currency; empty for anyone who may not see costs."""
    return contract_margins_for(actor, contract=contract.pk)


def margin_of_customer(
    actor: User, customer: Customer, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[MarginTotals]:
    return customer_margins_for(actor, customer=customer.pk, date_from=date_from, date_to=date_to)


def default_currency_row(rows: list[MarginTotals], pk: int, name: str) -> list[MarginTotals]:
    """`rows`, or one zero row when there is nothing, so a panel always shows its figures."""
    return rows or [MarginTotals(pk=pk, name=name, currency=DEFAULT_CURRENCY)]
