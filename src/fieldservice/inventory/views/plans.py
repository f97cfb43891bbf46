"""Pages of parts plans (备件计划): a warehouse's suggested levels, applying them, one-click refill,
and the list of levels in force."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import require
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import WarehouseKind
from fieldservice.inventory.forms import LevelFilterForm
from fieldservice.inventory.models import Warehouse
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services import plans

LEVELS = Listing(
    columns=[
        Column(
            gettext_lazy("Warehouse"),
            lambda level: level.warehouse.name,
            link=lambda level: reverse("inventory:plan_detail", args=[level.warehouse_id]),
        ),
        Column(gettext_lazy("Part number"), lambda level: level.part.part_number),
        Column(gettext_lazy("Name"), lambda level: level.part.name),
        Column(gettext_lazy("Minimum"), lambda level: level.minimum, cell="{% load quantities %}{{ row.minimum|qty }}"),
        Column(gettext_lazy("Maximum"), lambda level: level.maximum, cell="{% load quantities %}{{ row.maximum|qty }}"),
        Column(
            gettext_lazy("Below minimum since"),
            lambda level: level.alerted_at,
            date="SHORT_DATETIME_FORMAT",
            default="—",
        ),
    ],
    filter_form=LevelFilterForm,
    order=("warehouse__kind", "warehouse__code", "part__part_number"),
    empty=gettext_lazy("No stock levels set yet: open a warehouse's parts plan to set them."),
    empty_filtered=gettext_lazy("No level for this warehouse."),
    export_name="stock-levels",
    export_title=gettext_lazy("Stock levels"),
)


def _plannable(actor):
    return selectors.warehouses_for(actor).exclude(kind=WarehouseKind.TRANSIT)


@login_required
def levels_list(request):
    require(can(request.user, Capability.VIEW_STOCK))
    filters = LEVELS.filters(request, warehouses=_plannable(request.user))
    levels = selectors.levels_for(request.user)
    if filters is not None and filters.is_valid() and filters.cleaned_data.get("warehouse"):
        levels = levels.filter(warehouse=filters.cleaned_data["warehouse"])
    return LEVELS.render(request, "inventory/levels_list.html", levels, filters=filters)


def _sources(warehouse: Warehouse):
    return Warehouse.objects.filter(
        organisation_id=warehouse.organisation_id,
        is_active=True,
        kind__in=[WarehouseKind.CENTRAL, WarehouseKind.REGIONAL, WarehouseKind.PROVIDER],
    ).exclude(pk=warehouse.pk)


def _months(request) -> int:
    months = parse_id(request.GET.get("months"))
    return months if months is not None and 1 <= months <= plans.MAX_MONTHS else 12


@login_required
def plan(request, pk, errors=None):
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(can(request.user, Capability.VIEW_STOCK) and warehouse.kind != WarehouseKind.TRANSIT)
    months = _months(request)
    suggestions = services.suggest_levels(actor=request.user, warehouse=warehouse, months=months)
    typed = request.POST if errors else {}
    for row in suggestions:
        row.input_minimum = typed.get(f"minimum-{row.part.pk}") or (
            row.level_minimum if row.level_minimum is not None else row.minimum
        )
        row.input_maximum = typed.get(f"maximum-{row.part.pk}") or (
            row.level_maximum if row.level_maximum is not None else row.maximum
        )
    return render(
        request,
        "inventory/plan.html",
        {
            "warehouse": warehouse,
            "suggestions": suggestions,
            "months": months,
            "errors": errors or [],
            "may_operate": may_operate(request.user, warehouse),
            "sources": _sources(warehouse),
            "lead_time": plans.LEAD_TIME_MONTHS.normalize(),
            "safety_percent": (plans.SAFETY_RATE * 100).normalize(),
            "refill_months": plans.REFILL_MONTHS.normalize(),
            "gaps": [row for row in suggestions if row.gap],
        },
    )


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for found in error.message_dict.values() for message in found]
    return list(error.messages)


@login_required
@require_POST
def plan_apply(request, pk):
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(may_operate(request.user, warehouse))
    levels = []
    for name in request.POST:
        if not name.startswith("minimum-"):
            continue
        part = parse_id(name.removeprefix("minimum-"))
        if part is None:
            continue
        levels.append(
            {
                "part": part,
                "minimum": request.POST.get(name, ""),
                "maximum": request.POST.get(f"maximum-{part}", ""),
            }
        )
    try:
        services.apply_levels(actor=request.user, warehouse=warehouse, levels=levels)
    except ValidationError as error:
        return plan(request, pk, errors=_messages(error))
    messages.success(request, _("Stock levels of %(warehouse)s saved.") % {"warehouse": warehouse.name})
    return redirect("inventory:plan_detail", warehouse.pk)


@login_required
@require_POST
def plan_refill(request, pk):
    warehouse = selectors.get_warehouse_for(request.user, pk)
    require(may_operate(request.user, warehouse))
    source = _sources(warehouse).filter(pk=parse_id(request.POST.get("source"))).first()
    if source is None:
        messages.error(request, _("Choose the warehouse to refill from."))
        return redirect("inventory:plan_detail", warehouse.pk)
    try:
        transfer = services.request_refills(actor=request.user, warehouse=warehouse, source=source)
    except ValidationError as error:
        messages.error(request, " ".join(_messages(error)))
        return redirect("inventory:plan_detail", warehouse.pk)
    if transfer is None:
        messages.info(request, _("No part is below its minimum: nothing to refill."))
    else:
        messages.success(
            request,
            _("Transfer request %(number)s from %(source)s made.") % {"number": transfer.number, "source": source.name},
        )
    return redirect("inventory:plan_detail", warehouse.pk)
