"""Pages of the parts keeper's desk: stock across warehouses, a part's stock and ledger, a serial
unit's history, receiving and scrapping stock, and QR labels for parts and bins."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.inventory import labels, selectors, services
from fieldservice.inventory.choices import Tracking
from fieldservice.inventory.forms import LabelsForm, ReceiveForm, ScrapForm, StockFilterForm
from fieldservice.inventory.permissions import sees_all_stock

MAX_LABELS = 500


def require_stock_view(user) -> None:
    require(can(user, Capability.VIEW_STOCK) or sees_all_stock(user))


def amount(value: Decimal | None) -> str:
    """A quantity as people write it: 2, 2.5 (not 2.000)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def quantity_columns(label, value) -> list[Column]:
    """A quantity shown as people write it, exported as a number."""
    return [Column(label, lambda row: amount(value(row)), export=False), Column(label, value, page=False)]


STOCK = Listing(
    columns=[
        Column(
            gettext_lazy("Warehouse"),
            lambda b: b.warehouse.code,
            link=lambda b: reverse("inventory:warehouse_detail", args=[b.warehouse_id]),
        ),
        Column(
            gettext_lazy("Part number"),
            lambda b: b.part.part_number,
            link=lambda b: reverse("inventory:part_stock", args=[b.part_id]),
        ),
        Column(gettext_lazy("Name"), lambda b: b.part.name),
        Column(gettext_lazy("Lot"), lambda b: b.lot, default="—"),
        Column(gettext_lazy("Grade"), lambda b: b.get_grade_display()),
        *quantity_columns(gettext_lazy("On hand"), lambda b: b.on_hand),
        *quantity_columns(gettext_lazy("Reserved"), lambda b: b.reserved),
        *quantity_columns(gettext_lazy("Available"), lambda b: b.available),
        Column(gettext_lazy("Bin"), lambda b: b.bin.code if b.bin else "", default="—"),
    ],
    filter_form=StockFilterForm,
    search=gettext_lazy("Part number or name"),
    order=("warehouse__code", "part__part_number", "lot", "grade"),
    row_id="balance",
    empty=gettext_lazy("No stock in the warehouses you see."),
    empty_filtered=gettext_lazy("No stock matches this search."),
    export_name="stock",
    export_title=gettext_lazy("Stock"),
)

LEDGER_COLUMNS = [
    Column(gettext_lazy("Time"), lambda m: m.at, date="SHORT_DATETIME_FORMAT"),
    Column(gettext_lazy("Reason"), lambda m: m.get_reason_display()),
    Column(
        gettext_lazy("Warehouse"),
        lambda m: m.warehouse.code,
        link=lambda m: reverse("inventory:warehouse_detail", args=[m.warehouse_id]),
    ),
    Column(
        gettext_lazy("Part number"),
        lambda m: m.part.part_number,
        link=lambda m: reverse("inventory:part_stock", args=[m.part_id]),
    ),
    Column(gettext_lazy("Lot"), lambda m: m.lot, default="—"),
    Column(gettext_lazy("Grade"), lambda m: m.get_grade_display()),
    Column(
        gettext_lazy("Serial number"),
        lambda m: m.unit.serial if m.unit else "",
        link=lambda m: reverse("inventory:unit_detail", args=[m.unit_id]) if m.unit_id else None,
        default="—",
    ),
    *quantity_columns(gettext_lazy("Quantity"), lambda m: m.quantity),
    *quantity_columns(gettext_lazy("Reserved"), lambda m: m.reserved),
    *quantity_columns(gettext_lazy("On hand after"), lambda m: m.on_hand_after),
    Column(gettext_lazy("Unit cost"), lambda m: m.unit_cost),
    Column(gettext_lazy("Reference"), lambda m: m.reference, default="—"),
    Column(gettext_lazy("By"), lambda m: str(m.actor) if m.actor else "", default="—"),
    Column(gettext_lazy("Note"), lambda m: m.note, page=False),
]

# The ledger rows a detail page shows below its own facts (no pagination: the latest ones).
LEDGER_PAGE_COLUMNS = [column for column in LEDGER_COLUMNS if column.page]

LEDGER = Listing(
    columns=LEDGER_COLUMNS,
    empty=gettext_lazy("No stock moves yet."),
    export_name="stock-moves",
    export_title=gettext_lazy("Stock moves"),
)


@login_required
def stock_list(request):
    require_stock_view(request.user)
    filters = STOCK.filters(request, user=request.user)
    balances = selectors.balances_for(request.user).filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
    if filters.is_valid():
        data = filters.cleaned_data
        text = data["q"].strip()
        if text:
            balances = balances.filter(Q(part__part_number__icontains=text) | Q(part__name__icontains=text))
        if data["warehouse"]:
            balances = balances.filter(warehouse=data["warehouse"])
        if data["grade"]:
            balances = balances.filter(grade=data["grade"])
        if data["below_minimum"]:
            balances = selectors.below_minimum(balances)
    return STOCK.render(
        request,
        "inventory/stock_list.html",
        balances,
        filters=filters,
        context={"may_manage": can(request.user, Capability.MANAGE_STOCK)},
    )


@login_required
def part_stock(request, pk):
    require_stock_view(request.user)
    part = selectors.get_part_for(request.user, pk)
    balances = selectors.balances_for(request.user).filter(part=part).exclude(on_hand=0, reserved=0)
    moves = selectors.moves_for(request.user).filter(part=part)
    units = selectors.units_for(request.user).filter(part=part) if part.tracking == Tracking.SERIAL else None
    return LEDGER.render(
        request,
        "inventory/part_stock.html",
        moves,
        context={
            "part": part,
            "balances": balances.order_by("warehouse__code", "lot", "grade"),
            "balance_columns": [column for column in STOCK.all_columns() if column.page],
            "units": units[:200] if units is not None else None,
            "may_manage": can(request.user, Capability.MANAGE_STOCK),
        },
    )


@login_required
def unit_detail(request, pk):
    require_stock_view(request.user)
    unit = selectors.get_unit_for(request.user, pk)
    moves = selectors.moves_for(request.user).filter(unit=unit)
    return render(
        request,
        "inventory/unit_detail.html",
        {"unit": unit, "moves": moves, "ledger_columns": LEDGER_PAGE_COLUMNS},
    )


def _part_by_number(user, form, field: str = "part"):
    number = form.cleaned_data[field].strip()
    part = selectors.parts_for(user).filter(part_number__iexact=number).first()
    if part is None:
        form.add_error(field, _("No part with number “%(number)s”.") % {"number": number})
    return part


def _initial(request) -> dict:
    initial = {}
    warehouse = parse_id(request.GET.get("warehouse"))
    if warehouse:
        initial["warehouse"] = warehouse
    part = parse_id(request.GET.get("part"))
    if part:
        found = selectors.parts_for(request.user).filter(pk=part).first()
        if found is not None:
            initial["part"] = found.part_number
    return initial


@login_required
def receive(request):
    require(can(request.user, Capability.MANAGE_STOCK))
    form = ReceiveForm(request.POST or None, user=request.user, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        part = _part_by_number(request.user, form)
        if part is not None:
            data = dict(form.cleaned_data, part=part)
            warehouse = data.pop("warehouse")
            try:
                moves = services.receive_stock(warehouse, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                total = sum((move.quantity for move in moves), Decimal(0))
                messages.success(
                    request,
                    _("Received %(quantity)s of %(part)s into %(warehouse)s.")
                    % {"quantity": amount(total), "part": part, "warehouse": warehouse},
                )
                return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/stock_form.html", {"form": form, "title": _("Receive stock"), "scrap": False})


@login_required
def scrap(request):
    require(can(request.user, Capability.MANAGE_STOCK))
    form = ScrapForm(request.POST or None, user=request.user, initial=_initial(request))
    if request.method == "POST" and form.is_valid():
        part = _part_by_number(request.user, form)
        if part is not None:
            data = dict(form.cleaned_data, part=part)
            warehouse = data.pop("warehouse")
            try:
                services.scrap_stock(warehouse, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error, aliases={"unit": "serial"})
            else:
                messages.success(
                    request,
                    _("Scrapped %(quantity)s of %(part)s in %(warehouse)s.")
                    % {"quantity": data["quantity"], "part": part, "warehouse": warehouse},
                )
                return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/stock_form.html", {"form": form, "title": _("Scrap stock"), "scrap": True})


@login_required
def print_labels(request):
    """Labels of a warehouse's bins and of the parts named, on one printable page."""
    require_stock_view(request.user)
    form = LabelsForm(request.GET or None, user=request.user)
    printed = []
    missing = []
    if form.is_bound and form.is_valid():
        warehouse = form.cleaned_data["warehouse"]
        if warehouse is not None:
            printed += [labels.bin_label(bin) for bin in warehouse.bins.select_related("warehouse")]
        numbers = [number for number in form.cleaned_data["parts"].replace(",", " ").split() if number]
        found = {
            part.part_number.upper(): part
            for part in selectors.parts_for(request.user).filter(part_number__in=[n.upper() for n in numbers])
        }
        for number in dict.fromkeys(number.upper() for number in numbers):
            if number in found:
                printed.append(labels.part_label(found[number]))
            else:
                missing.append(number)
        for part_id in request.GET.getlist("part"):
            part = selectors.parts_for(request.user).filter(pk=parse_id(part_id) or 0).first()
            if part is not None:
                printed.append(labels.part_label(part))
    return render(
        request,
        "inventory/labels.html",
        {"form": form, "labels": printed[:MAX_LABELS], "missing": missing},
    )
