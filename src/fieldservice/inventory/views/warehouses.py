"""Pages of the parts keeper's desk: warehouses, their keepers and bins, and what each holds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.core.errors import require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.inventory import selectors, services
from fieldservice.inventory.forms import (
    BalanceSearchForm,
    BinForm,
    KeepersForm,
    WarehouseCreateForm,
    WarehouseEditForm,
    WarehouseFilterForm,
)
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.warehouses import CREATED_KINDS
from fieldservice.inventory.views.stock import LEDGER_PAGE_COLUMNS, quantity_columns, require_stock_view

WAREHOUSES = Listing(
    columns=[
        Column(
            gettext_lazy("Code"), lambda w: w.code, link=lambda w: reverse("inventory:warehouse_detail", args=[w.pk])
        ),
        Column(gettext_lazy("Name"), lambda w: w.name),
        Column(gettext_lazy("Kind"), lambda w: w.get_kind_display()),
        Column(gettext_lazy("Organisation"), lambda w: w.organisation.name),
        Column(gettext_lazy("Service area"), lambda w: w.area.name if w.area else "", default="—"),
        Column(
            gettext_lazy("Keepers"),
            lambda w: ", ".join(str(user) for user in w.keepers.all()) or (str(w.engineer) if w.engineer else ""),
            default="—",
        ),
        Column(gettext_lazy("Active"), lambda w: w.is_active, cell="core/cells/active.html"),
    ],
    filter_form=WarehouseFilterForm,
    search=gettext_lazy("Code or name"),
    order=("kind", "code"),
    row_id="warehouse",
    empty=gettext_lazy("No warehouses yet."),
    empty_filtered=gettext_lazy("No warehouse matches this search."),
    export_name="warehouses",
    export_title=gettext_lazy("Warehouses"),
)

# What one warehouse holds; the bin is where a keeper finds it.
WAREHOUSE_STOCK = Listing(
    columns=[
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
    filter_form=BalanceSearchForm,
    search=gettext_lazy("Part number or name"),
    order=("part__part_number", "lot", "grade"),
    empty=gettext_lazy("This warehouse holds no stock."),
    empty_filtered=gettext_lazy("No stock of such a part here."),
    export_name="warehouse-stock",
    export_title=gettext_lazy("Stock"),
)


@login_required
def warehouse_list(request):
    require_stock_view(request.user)
    filters = WAREHOUSES.filters(request)
    warehouses = selectors.warehouses_for(request.user).select_related("organisation", "area", "engineer")
    warehouses = warehouses.prefetch_related("keepers")
    if filters.is_valid():
        text = filters.cleaned_data["q"].strip()
        if text:
            warehouses = warehouses.filter(Q(code__icontains=text) | Q(name__icontains=text))
        if filters.cleaned_data["kind"]:
            warehouses = warehouses.filter(kind=filters.cleaned_data["kind"])
    return WAREHOUSES.render(
        request,
        "inventory/warehouse_list.html",
        warehouses,
        filters=filters,
        context={"may_create": selectors.warehouse_organisations_for(request.user).exists()},
    )


@login_required
def warehouse_detail(request, pk):
    require_stock_view(request.user)
    warehouse = selectors.get_warehouse_for(request.user, pk)
    balances = selectors.balances_for(request.user).filter(warehouse=warehouse, on_hand__gt=0)
    text = request.GET.get("q", "").strip()
    if text:
        balances = balances.filter(Q(part__part_number__icontains=text) | Q(part__name__icontains=text))
    may_change = may_operate(request.user, warehouse)
    context = {
        "warehouse": warehouse,
        "may_change": may_change,
        "is_stock_room": warehouse.kind in CREATED_KINDS,
        "moves": selectors.moves_for(request.user).filter(warehouse=warehouse)[:20],
        "ledger_columns": LEDGER_PAGE_COLUMNS,
        "bins": warehouse.bins.all(),
        "keepers": warehouse.keepers.all(),
        "bin_form": BinForm() if may_change else None,
    }
    return WAREHOUSE_STOCK.render(
        request, "inventory/warehouse_detail.html", balances, filters=WAREHOUSE_STOCK.filters(request), context=context
    )


@login_required
def warehouse_create(request):
    require(selectors.warehouse_organisations_for(request.user).exists())
    form = WarehouseCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            warehouse = services.create_warehouse(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Warehouse %(name)s created.") % {"name": warehouse})
            return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/warehouse_form.html", {"form": form, "warehouse": None})


@login_required
def warehouse_edit(request, pk):
    require_stock_view(request.user)
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(may_operate(request.user, warehouse))
    initial = {name: getattr(warehouse, name) for name in WarehouseEditForm.base_fields}
    form = WarehouseEditForm(request.POST or None, initial=initial)
    if warehouse.is_van:
        form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        if warehouse.is_van:
            fields.pop("code")
        try:
            services.update_warehouse(warehouse, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Warehouse %(name)s saved.") % {"name": warehouse})
            return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/warehouse_form.html", {"form": form, "warehouse": warehouse})


@login_required
def warehouse_keepers(request, pk):
    require_stock_view(request.user)
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(may_operate(request.user, warehouse))
    form = KeepersForm(request.POST or None, warehouse=warehouse, initial={"keepers": list(warehouse.keepers.all())})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_keepers(warehouse, actor=request.user, keepers=list(form.cleaned_data["keepers"]))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Keepers of %(name)s saved.") % {"name": warehouse})
            return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/warehouse_keepers.html", {"form": form, "warehouse": warehouse})


@login_required
def bin_create(request, pk):
    require_stock_view(request.user)
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(may_operate(request.user, warehouse))
    form = BinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            bin = services.create_bin(warehouse, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Bin %(code)s added.") % {"code": bin.code})
            return redirect("inventory:warehouse_detail", warehouse.pk)
    return render(request, "inventory/bin_form.html", {"form": form, "warehouse": warehouse})
