"""Pages for the parts catalogue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.inventory import selectors, services
from fieldservice.inventory.forms import PartForm

PARTS = Listing(
    columns=[
        Column(
            gettext_lazy("Part number"),
            lambda p: p.part_number,
            cell="{% if may_change %}<a href=\"{% url 'inventory:part_edit' row.pk %}\">{{ row.part_number }}</a>"
            "{% else %}{{ row.part_number }}{% endif %}",
        ),
        Column(gettext_lazy("Name"), lambda p: p.name),
        Column(gettext_lazy("Specification"), lambda p: p.specification, default="—"),
        Column(gettext_lazy("Unit"), lambda p: p.get_unit_display()),
        Column(
            gettext_lazy("Active"),
            lambda p: p.is_active,
            cell="core/cells/active.html",
        ),
        Column(gettext_lazy("Stock"), cell="inventory/cells/part_stock_link.html", export=False, when="may_view_stock"),
    ],
    search=gettext_lazy("Part number or name"),
    empty=gettext_lazy("No parts in the catalogue yet."),
    empty_filtered=gettext_lazy("No part matches this search."),
    export_name="parts",
    export_title=gettext_lazy("Parts"),
)


@login_required
def part_list(request):
    require(can(request.user, Capability.VIEW_PARTS))
    return PARTS.render(
        request,
        "inventory/part_list.html",
        selectors.parts_for(request.user, request.GET.get("q", "")),
        context={
            "may_change": can(request.user, Capability.CHANGE_PARTS),
            "may_view_stock": can(request.user, Capability.VIEW_STOCK),
        },
    )


@login_required
def part_create(request):
    require(can(request.user, Capability.CHANGE_PARTS))
    form = PartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            part = services.create_part(actor=request.user, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Part %(name)s created.") % {"name": part})
            return redirect("inventory:part_list")
    return render(request, "inventory/part_form.html", {"form": form, "part": None})


@login_required
def part_edit(request, pk):
    part = selectors.get_part_for(request.user, pk)
    require(can(request.user, Capability.CHANGE_PARTS))
    initial = {name: getattr(part, name) for name in PartForm.base_fields}
    form = PartForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_part(part, actor=request.user, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Part %(name)s saved.") % {"name": part})
            return redirect("inventory:part_list")
    return render(request, "inventory/part_form.html", {"form": form, "part": part})
