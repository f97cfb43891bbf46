"""Pages of cost and margin (/billing/margins/): per order, per contract, per customer and per
engineer, each a declared list with a date range, a search and its Excel export; and the panels
of the work order, contract and customer pages. Our own back office only (`may_see_margins`)."""

from django.contrib.auth.decorators import login_required
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from fieldservice.billing import selectors
from fieldservice.billing.forms import MarginPeriodForm, OrderMarginFilterForm
from fieldservice.billing.permissions import may_see_margins
from fieldservice.core.errors import require
from fieldservice.core.listing import Column, Listing

PERCENT_CELL = "billing/margins/cells/percent.html"
TOTALS = "billing/margins/_totals.html"


def money_column(label, name: str, **options) -> Column:
    """An amount: the export writes the number (the currency has its own column), the page formats it."""
    return Column(
        label,
        lambda row: getattr(row, name),
        cell="{% load money %}{{ row." + name + "|money:row.currency }}",
        **options,
    )


def _period(request) -> dict:
    return {name: request.GET[name] for name in ("date_from", "date_to") if request.GET.get(name)}


def orders_link(row_filter: str, pk: int, request) -> str:
    """The orders tab narrowed to one contract, customer or engineer, over the same days."""
    return f"{reverse('billing:margin_orders')}?{urlencode({row_filter: pk, **_period(request)})}"


PARTY_COLUMNS = [
    Column(_("Orders"), lambda row: row.orders, link=lambda row: getattr(row, "orders_url", None)),
    money_column(_("Order revenue"), "revenue"),
    money_column(_("Cost"), "cost"),
    money_column(_("Margin"), "margin"),
    Column(_("Margin %"), lambda row: row.margin_percent, cell=PERCENT_CELL),
    Column(_("Currency"), lambda row: row.currency, page=False),
]

ORDERS = Listing(
    columns=[
        Column(
            _("Work order"),
            lambda m: m.work_order.number,
            link=lambda m: reverse("workorders:order_detail", args=[m.work_order_id]),
        ),
        Column(_("Date"), lambda m: m.booked_on, date="SHORT_DATE_FORMAT"),
        Column(_("Customer"), lambda m: m.customer.name),
        Column(_("Contract"), lambda m: m.contract.number if m.contract_id else None, default="—"),
        Column(_("Engineer"), lambda m: str(m.engineer) if m.engineer_id else None, default="—"),
        Column(_("Service provider"), lambda m: m.provider.name if m.provider_id else None, default="—", page=False),
        money_column(_("Revenue"), "revenue"),
        money_column(_("Parts cost"), "parts_cost"),
        money_column(_("Labour cost"), "labour_cost"),
        money_column(_("Travel cost"), "travel_cost"),
        money_column(_("Other costs"), "other_cost"),
        money_column(_("Settlement"), "settlement_cost"),
        money_column(_("Cost"), "cost"),
        money_column(_("Margin"), "margin"),
        Column(_("Margin %"), lambda m: m.margin_percent, cell=PERCENT_CELL),
        Column(_("Currency"), lambda m: m.currency, page=False),
    ],
    filter_form=OrderMarginFilterForm,
    search=_("Order, customer or contract"),
    order=("-booked_on", "-work_order_id"),
    summary=TOTALS,
    row_id="margin",
    empty=_("No order has figures yet: they appear once an order has fee lines or a settlement."),
    empty_filtered=_("No order matches these filters."),
    export_name="order-margins",
    export_title=_("Order margins"),
)

CONTRACTS = Listing(
    columns=[
        Column(_("Contract"), lambda row: row.name, link=lambda row: reverse("contracts:detail", args=[row.pk])),
        Column(_("Customer"), lambda row: row.extra["customer"].name),
        Column(_("Start"), lambda row: row.obj.starts_on, date="SHORT_DATE_FORMAT"),
        Column(_("End"), lambda row: row.obj.ends_on, date="SHORT_DATE_FORMAT"),
        Column(_("Status"), lambda row: row.obj.get_status_display(), page=False),
        money_column(_("Contract fee in the period"), "fee"),
        *PARTY_COLUMNS,
    ],
    filter_form=MarginPeriodForm,
    search=_("Contract or customer"),
    summary=TOTALS,
    empty=_("No contract has run yet."),
    empty_filtered=_("No contract matches these filters."),
    export_name="contract-margins",
    export_title=_("Contract margins"),
)

CUSTOMERS = Listing(
    columns=[
        Column(_("Customer"), lambda row: row.name, link=lambda row: reverse("customers:detail", args=[row.pk])),
        money_column(_("Contract fees in the period"), "fee"),
        *PARTY_COLUMNS,
    ],
    filter_form=MarginPeriodForm,
    search=_("Customer"),
    summary=TOTALS,
    empty=_("No customer has priced orders or contract fees yet."),
    empty_filtered=_("No customer matches these filters."),
    export_name="customer-margins",
    export_title=_("Customer margins"),
)

ENGINEERS = Listing(
    columns=[
        Column(_("Engineer"), lambda row: row.name),
        Column(_("Organisation"), lambda row: row.extra["organisation"], default="—"),
        *PARTY_COLUMNS,
    ],
    filter_form=MarginPeriodForm,
    search=_("Engineer"),
    summary=TOTALS,
    empty=_("No engineer has led an order with figures yet."),
    empty_filtered=_("No engineer matches these filters."),
    export_name="engineer-margins",
    export_title=_("Engineer margins"),
)

TABS = [
    ("orders", _("Orders"), "billing:margin_orders"),
    ("contracts", _("Contracts"), "billing:margin_contracts"),
    ("customers", _("Customers"), "billing:margin_customers"),
    ("engineers", _("Engineers"), "billing:margin_engineers"),
]


def _context(request, tab: str, totals, **more) -> dict:
    period = urlencode(_period(request))
    return {
        "tabs": [
            {"label": label, "url": reverse(url) + (f"?{period}" if period else ""), "current": name == tab}
            for name, label, url in TABS
        ],
        "tab": tab,
        "totals": totals,
        **more,
    }


@login_required
def margin_orders(request):
    require(may_see_margins(request.user))
    filters = ORDERS.filters(request, actor=request.user)
    margins = selectors.order_margins_for(request.user, request.GET.get("q", ""), **filters.filters())
    return ORDERS.render(
        request,
        "billing/margins/list.html",
        margins,
        filters=filters,
        context=_context(request, "orders", selectors.totals_of_orders(margins), title=_("Cost and margin of orders")),
    )


def _party_list(request, listing: Listing, tab: str, rows_for, title):
    require(may_see_margins(request.user))
    filters = listing.filters(request, actor=request.user)
    rows = rows_for(request.user, text=request.GET.get("q", ""), **filters.filters())
    for row in rows:
        row.orders_url = orders_link(tab[:-1], row.pk, request)
    return listing.render(
        request,
        "billing/margins/list.html",
        rows,
        filters=filters,
        context=_context(request, tab, selectors.totals_of(rows), title=title),
    )


@login_required
def margin_contracts(request):
    return _party_list(
        request, CONTRACTS, "contracts", selectors.contract_margins_for, _("Cost and margin of contracts")
    )


@login_required
def margin_customers(request):
    return _party_list(
        request, CUSTOMERS, "customers", selectors.customer_margins_for, _("Cost and margin of customers")
    )


@login_required
def margin_engineers(request):
    return _party_list(
        request, ENGINEERS, "engineers", selectors.engineer_margins_for, _("Cost and margin of engineers")
    )


# --- panels of lower apps' pages (core.panels) ---


def order_margin_panel(request, order) -> str:
    """ "Cost and margin" on the work order page (slot `workorders.order`), for the back office."""
    margin = selectors.margin_of_order(request.user, order)
    if margin is None:
        return ""
    return render_to_string("billing/margins/_order_panel.html", {"margin": margin, "order": order}, request=request)


def contract_margin_panel(request, contract) -> str:
    """The contract's fee, cost and margin over its whole term (slot `contracts.contract`)."""
    if not may_see_margins(request.user):
        return ""
    rows = selectors.default_currency_row(selectors.margin_of_contract(request.user, contract), contract.pk, "")
    return render_to_string(
        "billing/margins/_party_panel.html",
        {
            "rows": rows,
            "panel_id": "contract-margin",
            "orders_url": orders_link("contract", contract.pk, request),
        },
        request=request,
    )


def customer_margin_panel(request, customer) -> str:
    """The customer's revenue, cost and margin, all time (slot `customers.customer`)."""
    if not may_see_margins(request.user):
        return ""
    rows = selectors.default_currency_row(selectors.margin_of_customer(request.user, customer), customer.pk, "")
    return render_to_string(
        "billing/margins/_party_panel.html",
        {
            "rows": rows,
            "panel_id": "customer-margin",
            "orders_url": orders_link("customer", customer.pk, request),
        },
        request=request,
    )
