"""Defective parts owed: the keeper's list of what each engineer still has to bring back, and the
engineer's own phone page "What I owe"."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import require
from fieldservice.core.listing import Column, Listing
from fieldservice.inventory import selectors
from fieldservice.inventory.forms import DefectFilterForm


def age_in_days(defect) -> int:
    return max((timezone.now() - defect.removed_at).days, 0)


DEFECTS = Listing(
    columns=[
        Column(gettext_lazy("Engineer"), lambda d: str(d.engineer)),
        Column(gettext_lazy("Part number"), lambda d: d.part.part_number),
        Column(gettext_lazy("Part"), lambda d: d.part.name),
        Column(gettext_lazy("Quantity"), lambda d: d.quantity.normalize()),
        Column(gettext_lazy("Serial number"), lambda d: d.serial, default="—"),
        Column(gettext_lazy("Work order"), lambda d: d.work_order_number, default="—"),
        Column(gettext_lazy("Machine"), lambda d: d.equipment_label, default="—"),
        Column(gettext_lazy("Fault category"), lambda d: d.fault_category, page=False),
        Column(gettext_lazy("Status"), lambda d: d.get_status_display(), badge=lambda d: "warn"),
        Column(gettext_lazy("Removed"), lambda d: d.removed_at, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Age (days)"), age_in_days),
    ],
    filter_form=DefectFilterForm,
    search=gettext_lazy("Part number, serial or work order"),
    order=("removed_at", "pk"),
    row_id="defect",
    empty=gettext_lazy("No engineer owes a defective part."),
    empty_filtered=gettext_lazy("No defective part matches these filters."),
    export_name="defective-parts-owed",
    export_title=gettext_lazy("Defective parts owed"),
)


def _search(defects, text: str):
    text = (text or "").strip()
    if not text:
        return defects
    return defects.filter(
        Q(part__part_number__icontains=text) | Q(serial__icontains=text) | Q(work_order_number__icontains=text)
    )


@login_required
def defect_list(request):
    """What each engineer owes, oldest first (keepers, provider administrators, administrators)."""
    require(can(request.user, Capability.VIEW_STOCK))
    filters = DEFECTS.filters(request, user=request.user)
    defects = filters.filter(_search(selectors.defects_for(request.user), request.GET.get("q", "")))
    return DEFECTS.render(request, "inventory/defect_list.html", defects, filters=filters)


@login_required
def my_defects(request):
    """The engineer's phone page: the parts he took off machines and has not brought back yet."""
    require(can(request.user, Capability.REQUEST_PARTS))
    owed = [{"defect": defect, "age": age_in_days(defect)} for defect in selectors.owed_by(request.user)]
    return render(request, "inventory/my_defects.html", {"owed": owed})
