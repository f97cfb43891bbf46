"""HTTP API of cost and margin (under /api/v1/billing/margins/): the rows per order, filtered,
and the figures added up per contract, customer and engineer over a date range. Our own back
office only (`may_see_margins`): anyone else gets 403. Amounts are decimals in the row's currency;
a contract's fee is earned evenly over its term (see `billing.selectors`)."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.billing import selectors
from fieldservice.billing.permissions import may_see_margins
from fieldservice.core.api import Id, PageNumberPagination
from fieldservice.core.errors import field_error, require
from fieldservice.core.validation import check_date

router = Router(tags=["billing"])


class OrderMarginOut(Schema):
    work_order: int
    work_order_number: str | None
    booked_on: dt.date
    customer: int
    customer_name: str
    contract: int | None
    engineer: int | None
    provider: int | None
    currency: str
    revenue: Decimal
    parts_cost: Decimal
    labour_cost: Decimal
    travel_cost: Decimal
    other_cost: Decimal
    settlement_cost: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None

    @staticmethod
    def resolve_work_order(obj) -> int:
        return obj.work_order_id

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.customer_id

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_contract(obj) -> int | None:
        return obj.contract_id

    @staticmethod
    def resolve_engineer(obj) -> int | None:
        return obj.engineer_id

    @staticmethod
    def resolve_provider(obj) -> int | None:
        return obj.provider_id


class MarginTotalsOut(Schema):
    id: int
    name: str
    currency: str
    orders: int
    fee: Decimal
    revenue: Decimal
    total_revenue: Decimal
    cost: Decimal
    margin: Decimal
    margin_percent: Decimal | None

    @staticmethod
    def resolve_id(obj) -> int:
        return obj.pk


class ContractMarginOut(MarginTotalsOut):
    customer: int
    starts_on: dt.date
    ends_on: dt.date

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.obj.customer_id

    @staticmethod
    def resolve_starts_on(obj) -> dt.date:
        return obj.obj.starts_on

    @staticmethod
    def resolve_ends_on(obj) -> dt.date:
        return obj.obj.ends_on


class EngineerMarginOut(MarginTotalsOut):
    organisation: str

    @staticmethod
    def resolve_organisation(obj) -> str:
        return obj.extra["organisation"]


def _period(date_from: dt.date | None, date_to: dt.date | None) -> dict:
    check_date(date_from, field="date_from")
    check_date(date_to, field="date_to")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise field_error("date_to", _("The end of the period is before its start."), "invalid")
    return {"date_from": date_from, "date_to": date_to}


def _allowed(request) -> None:
    require(may_see_margins(request.user))


@router.get("/margins/orders", response=list[OrderMarginOut])
@paginate(PageNumberPagination, page_size=50)
def list_order_margins(
    request,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    customer: Id | None = None,
    contract: Id | None = None,
    engineer: Id | None = None,
    provider: Id | None = None,
    q: str = "",
):
    """Each order's revenue, costs and margin, newest first; `date_from`/`date_to` bound the day
    an order counts on (closed, else completed, else created)."""
    _allowed(request)
    return selectors.order_margins_for(
        request.user,
        q[:100],
        customer=customer,
        contract=contract,
        engineer=engineer,
        provider=provider,
        **_period(date_from, date_to),
    ).order_by("-booked_on", "-work_order_id")


@router.get("/margins/orders/{int:order_id}", response=OrderMarginOut)
def get_order_margin(request, order_id: Id):
    _allowed(request)
    return selectors.get_order_margin_for(request.user, order_id)


@router.get("/margins/contracts", response=list[ContractMarginOut])
@paginate(PageNumberPagination, page_size=50)
def list_contract_margins(
    request,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    customer: Id | None = None,
    q: str = "",
):
    """Per contract: the fee earned in the period (the whole fee without a period), what its
    orders charged and cost, the margin."""
    _allowed(request)
    return selectors.contract_margins_for(request.user, text=q[:100], customer=customer, **_period(date_from, date_to))


@router.get("/margins/contracts/{int:contract_id}", response=list[ContractMarginOut])
def get_contract_margin(request, contract_id: Id, date_from: dt.date | None = None, date_to: dt.date | None = None):
    """One contract's figures, a row per currency; 404 for a contract one may not see or a draft."""
    _allowed(request)
    rows = selectors.contract_margins_for(request.user, contract=contract_id, **_period(date_from, date_to))
    if not rows:
        raise Http404
    return rows


@router.get("/margins/customers", response=list[MarginTotalsOut])
@paginate(PageNumberPagination, page_size=50)
def list_customer_margins(request, date_from: dt.date | None = None, date_to: dt.date | None = None, q: str = ""):
    """Per customer: its orders' revenue and cost plus its contracts' fees earned in the period."""
    _allowed(request)
    return selectors.customer_margins_for(request.user, text=q[:100], **_period(date_from, date_to))


@router.get("/margins/engineers", response=list[EngineerMarginOut])
@paginate(PageNumberPagination, page_size=50)
def list_engineer_margins(request, date_from: dt.date | None = None, date_to: dt.date | None = None, q: str = ""):
    """Per lead engineer: the revenue, cost and margin of the orders he led."""
    _allowed(request)
    return selectors.engineer_margins_for(request.user, text=q[:100], **_period(date_from, date_to))
