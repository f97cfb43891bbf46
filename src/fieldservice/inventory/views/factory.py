"""Returns to the factory (RMA): the list, a new return (choose the defective parts waiting in a
warehouse), and its page with the shipment and the factory's findings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import FactoryReturnStatus, Finding
from fieldservice.inventory.forms import FactoryReturnFilterForm, FactoryReturnForm, ShipFactoryReturnForm
from fieldservice.inventory.permissions import may_operate

FACTORY_RETURNS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda r: r.number,
            link=lambda r: reverse("inventory:factory_return_detail", args=[r.pk]),
        ),
        Column(gettext_lazy("Warehouse"), lambda r: r.warehouse.name),
        Column(gettext_lazy("Status"), lambda r: r.get_status_display(), badge=lambda r: ""),
        Column(gettext_lazy("Parts"), lambda r: r.lines.count()),
        Column(gettext_lazy("Carrier"), lambda r: r.carrier, default="—"),
        Column(gettext_lazy("Tracking number"), lambda r: r.tracking_number, default="—"),
        Column(gettext_lazy("Created"), lambda r: r.created_at, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Shipped"), lambda r: r.shipped_at, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Closed"), lambda r: r.closed_at, page=False),
    ],
    filter_form=FactoryReturnFilterForm,
    search=gettext_lazy("Number or tracking number"),
    order=("-created_at", "-pk"),
    empty=gettext_lazy("No parts have been sent to the factory yet."),
    empty_filtered=gettext_lazy("No return matches these filters."),
    export_name="factory-returns",
    export_title=gettext_lazy("Returns to the factory"),
)


@login_required
def factory_return_list(request):
    require(can(request.user, Capability.VIEW_STOCK))
    filters = FACTORY_RETURNS.filters(request)
    returns = filters.filter(selectors.factory_returns_for(request.user))
    text = request.GET.get("q", "").strip()
    if text:
        returns = returns.filter(number__icontains=text) | returns.filter(tracking_number__icontains=text)
    return FACTORY_RETURNS.render(
        request,
        "inventory/factory_list.html",
        returns,
        filters=filters,
        context={"may_create": can(request.user, Capability.MANAGE_STOCK)},
    )


@login_required
def factory_return_create(request):
    require(can(request.user, Capability.MANAGE_STOCK))
    form = FactoryReturnForm(request.POST or None, user=request.user)
    warehouses = form.fields["warehouse"].queryset
    chosen = parse_id(request.POST.get("warehouse") or request.GET.get("warehouse"))
    warehouse = warehouses.filter(pk=chosen).first() if chosen else None
    if warehouse is None and warehouses.count() == 1:
        warehouse = warehouses.get()
    waiting = list(selectors.awaiting_factory(warehouse)) if warehouse is not None else []
    ticked = {parse_id(value) for value in request.POST.getlist("defect")}
    if request.method == "POST" and form.is_valid():
        lines = [
            {"defect": defect, "reason": request.POST.get(f"reason_{defect.pk}", "")}
            for defect in waiting
            if defect.pk in ticked
        ]
        try:
            made = services.create_factory_return(
                actor=request.user,
                warehouse=form.cleaned_data["warehouse"],
                lines=lines,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Return %(number)s created.") % {"number": made.number})
            return redirect("inventory:factory_return_detail", pk=made.pk)
    if warehouse is not None and not form.is_bound:
        form = FactoryReturnForm(initial={"warehouse": warehouse.pk}, user=request.user)
    context = {"form": form, "warehouse": warehouse, "waiting": waiting, "ticked": ticked}
    return render(request, "inventory/factory_form.html", context)


def _detail(request, factory_return, *, ship_form=None, finding_errors=None):
    lines = list(factory_return.lines.select_related("defect__part", "defect__engineer").order_by("pk"))
    operable = may_operate(request.user, factory_return.warehouse)
    context = {
        "factory_return": factory_return,
        "lines": lines,
        "may_ship": operable and factory_return.status == FactoryReturnStatus.DRAFT,
        "may_find": operable and factory_return.status == FactoryReturnStatus.SHIPPED,
        "ship_form": ship_form or ShipFactoryReturnForm(),
        "findings": Finding.choices,
        "finding_errors": finding_errors or [],
    }
    return render(request, "inventory/factory_detail.html", context)


@login_required
def factory_return_detail(request, pk):
    factory_return = selectors.get_factory_return_for(request.user, pk)
    return _detail(request, factory_return)


@login_required
@require_POST
def factory_return_ship(request, pk):
    factory_return = selectors.get_factory_return_for(request.user, pk)
    form = ShipFactoryReturnForm(request.POST)
    if form.is_valid():
        try:
            services.ship_factory_return(factory_return, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("inventory:factory_return_detail", pk=factory_return.pk)
        else:
            messages.success(request, _("%(number)s sent to the factory.") % {"number": factory_return.number})
            return redirect("inventory:factory_return_detail", pk=factory_return.pk)
    return _detail(request, factory_return, ship_form=form)


@login_required
@require_POST
def factory_return_findings(request, pk):
    factory_return = selectors.get_factory_return_for(request.user, pk)
    findings = {}
    for line in factory_return.lines.filter(finding=""):
        finding = request.POST.get(f"finding_{line.pk}", "")
        if finding:
            findings[line.pk] = {
                "finding": finding,
                "credit": request.POST.get(f"credit_{line.pk}", ""),
                "note": request.POST.get(f"note_{line.pk}", ""),
            }
    try:
        services.record_finding(factory_return, actor=request.user, findings=findings)
    except ValidationError as error:
        return _detail(request, factory_return, finding_errors=error.messages)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Findings recorded."))
    return redirect("inventory:factory_return_detail", pk=factory_return.pk)


@login_required
@require_POST
def factory_return_cancel(request, pk):
    factory_return = selectors.get_factory_return_for(request.user, pk)
    try:
        services.cancel_factory_return(factory_return, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("inventory:factory_return_detail", pk=factory_return.pk)
    messages.success(request, _("Return %(number)s dropped.") % {"number": factory_return.number})
    return redirect("inventory:factory_return_list")
