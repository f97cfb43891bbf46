"""Pages of inspections: the desk's list (with Excel export), the create form, the detail with its
moves, the report PDF; the engineer's phone page of an inspection and its panels on his phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.customers.models import Customer
from fieldservice.customers.selectors import get_site_for, sites_for
from fieldservice.maintenance.forms.inspections import FindingForm, InspectionFilterForm, InspectionForm, ReasonForm
from fieldservice.maintenance.inspection_pdf import render_inspection_pdf
from fieldservice.maintenance.models.inspections import InspectionStatus
from fieldservice.maintenance.selectors import inspections as selectors
from fieldservice.maintenance.services import inspections as services

STATUS_COLOURS = {
    InspectionStatus.SENT: "warn",
    InspectionStatus.APPROVED: "info",
    InspectionStatus.IN_PROGRESS: "info",
    InspectionStatus.REPORTED: "warn",
    InspectionStatus.CONFIRMED: "ok",
    InspectionStatus.CLOSED: "ok",
    InspectionStatus.DECLINED: "danger",
    InspectionStatus.CANCELLED: "danger",
}
# The progress bar of the detail page: the happy path.
STEPS = [
    InspectionStatus.DRAFT,
    InspectionStatus.SENT,
    InspectionStatus.APPROVED,
    InspectionStatus.IN_PROGRESS,
    InspectionStatus.REPORTED,
    InspectionStatus.CONFIRMED,
    InspectionStatus.CLOSED,
]
VERB_LABELS = {
    "send": gettext_lazy("Send to the customer"),
    "revise": gettext_lazy("Revise"),
    "start": gettext_lazy("Start"),
    "send_report": gettext_lazy("Send the report"),
    "close": gettext_lazy("Close"),
    "cancel": gettext_lazy("Cancel"),
}
DESK_VERBS = {
    "send": services.send_inspection,
    "revise": services.revise_inspection,
    "start": services.start_inspection,
    "send_report": services.send_report,
    "close": services.close_inspection,
}

INSPECTIONS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda r: r.number,
            link=lambda r: reverse("maintenance:inspection_detail", args=[r.pk]),
        ),
        Column(gettext_lazy("Title"), lambda r: r.title),
        Column(gettext_lazy("Customer"), lambda r: r.customer.name),
        Column(gettext_lazy("Site"), lambda r: r.site.name),
        Column(
            gettext_lazy("Status"), lambda r: r.get_status_display(), badge=lambda r: STATUS_COLOURS.get(r.status, "")
        ),
        Column(gettext_lazy("Owner"), lambda r: r.owner.get_full_name() or r.owner.username),
        Column(gettext_lazy("Planned for"), lambda r: r.planned_on, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Created"), lambda r: r.created_at, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Template"), lambda r: r.template.name, page=False),
        Column(gettext_lazy("Reason for declining"), lambda r: r.decline_reason, page=False),
    ],
    filter_form=InspectionFilterForm,
    search=gettext_lazy("Number, title, customer, site or serial"),
    order=("-created_at", "-pk"),
    empty=gettext_lazy("No inspections yet."),
    empty_filtered=gettext_lazy("No inspection matches these filters."),
    export_name="inspections",
    export_title=gettext_lazy("Inspections"),
    row_id="inspection",
)


def _fail(request, error) -> None:
    messages.error(request, getattr(error, "message", None) or " ".join(getattr(error, "messages", [])) or str(error))


def _owners():
    return User.objects.filter(is_active=True, organisation__kind="own").order_by("username")


@login_required
def inspection_list(request):
    require(can(request.user, Capability.VIEW_MAINTENANCE) or can(request.user, Capability.WORK_IN_FIELD))
    visible = selectors.inspections_for(request.user)
    filters = INSPECTIONS.filters(
        request,
        customers=Customer.objects.filter(pk__in=visible.values("customer_id")).order_by("name"),
        owners=User.objects.filter(pk__in=visible.values("owner_id")).order_by("username"),
    )
    criteria = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    rows = selectors.inspections_for(
        request.user,
        request.GET.get("q", "")[:100],
        status=criteria.get("status") or "",
        customer=criteria.get("customer"),
        owner=criteria.get("owner"),
    )
    return INSPECTIONS.render(
        request,
        "maintenance/inspection_list.html",
        rows,
        filters=filters,
        context={"may_create": selectors.may_manage_inspections(request.user)},
    )


@login_required
def inspection_create(request):
    user = request.user
    require(selectors.may_manage_inspections(user))
    site_id = parse_id(request.GET.get("site") or request.POST.get("site"))
    site = get_site_for(user, site_id) if site_id else None
    if site is None:
        sites = sites_for(user).select_related("customer").filter(is_active=True).order_by("customer__name", "name")
        return render(request, "maintenance/inspection_form.html", {"sites": sites})
    machines = list(site.equipment.select_related("product_model").order_by("serial_number"))
    registered = [m for m in machines if m.is_registered]
    orders, requests = selectors.open_issues_of(registered)
    engineers = User.objects.filter(is_active=True, roles__role=Role.ENGINEER).order_by("username").distinct()
    form = InspectionForm(
        request.POST or None,
        templates=selectors.inspection_templates(),
        machines=registered,
        orders=orders,
        requests=requests,
        owners=_owners(),
        engineers=engineers,
        initial={"owner": user.pk, "equipment": [m.pk for m in registered]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = services.create_inspection(
                actor=user,
                customer=site.customer,
                site=site,
                equipment=data["equipment"],
                template=data["template"],
                owner=data["owner"],
                engineers=list(data["engineers"]),
                title=data["title"],
                planned_on=data["planned_on"],
                note=data["note"],
                issue_orders=data["issue_orders"],
                issue_requests=data["issue_requests"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Inspection %(number)s started.") % {"number": inspection.number})
            return redirect("maintenance:inspection_detail", pk=inspection.pk)
    return render(request, "maintenance/inspection_form.html", {"site": site, "form": form})


def _progress(inspection) -> dict:
    if inspection.status in (InspectionStatus.DECLINED, InspectionStatus.CANCELLED):
        return {"steps": [], "percent": 0}
    index = STEPS.index(inspection.status)
    return {
        "steps": [{"label": step.label, "done": i <= index, "current": i == index} for i, step in enumerate(STEPS)],
        "percent": round(100 * index / (len(STEPS) - 1)),
    }


@login_required
def inspection_detail(request, pk):
    inspection = selectors.get_inspection_for(request.user, pk)
    manager = selectors.may_manage_inspections(request.user)
    verbs = [(v, VERB_LABELS[v]) for v in services.allowed_verbs(inspection) if v in DESK_VERBS] if manager else []
    return render(
        request,
        "maintenance/inspection_detail.html",
        {
            "inspection": inspection,
            "progress": _progress(inspection),
            "machines": selectors.machines_of(inspection),
            "verbs": verbs,
            "may_cancel": manager and "cancel" in services.allowed_verbs(inspection),
            "reason_form": ReasonForm(),
            "follow_url": request.build_absolute_uri(reverse("portal:inspection", args=[inspection.follow_token]))
            if manager and inspection.status != InspectionStatus.DRAFT
            else "",
            "has_report": inspection.report_version > 0,
        },
    )


@login_required
@require_POST
def inspection_move(request, pk, verb):
    inspection = selectors.get_inspection_for(request.user, pk)
    try:
        if verb == "cancel":
            form = ReasonForm(request.POST)
            services.cancel_inspection(inspection, actor=request.user, reason=form.data.get("reason", ""))
        elif verb in DESK_VERBS:
            DESK_VERBS[verb](inspection, actor=request.user)
        else:
            raise Http404
    except (DomainError, ValidationError, PermissionDenied) as error:
        _fail(request, error)
    else:
        messages.success(request, _("Inspection %(number)s: done.") % {"number": inspection.number})
    return redirect("maintenance:inspection_detail", pk=pk)


@login_required
def inspection_pdf(request, pk):
    inspection = selectors.get_inspection_for(request.user, pk)
    return pdf_response(inspection, request.GET.get("lang"))


def pdf_response(inspection, language=None) -> HttpResponse:
    response = HttpResponse(render_inspection_pdf(inspection, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="inspection-{inspection.number}.pdf"'
    return response


# The engineer's phone ----------------------------------------------------------------------------------


def _phone_context(request, inspection, form=None) -> dict:
    machines = selectors.machines_of(inspection)
    may_record = selectors.may_work_on_inspection(request.user, inspection) and inspection.status in (
        services.FINDING_STATES
    )
    return {
        "inspection": inspection,
        "machines": machines,
        "form": (form or FindingForm(machines=machines)) if may_record else None,
    }


@login_required
def inspection_phone(request, pk):
    inspection = selectors.get_inspection_for(request.user, pk)
    return render(request, "maintenance/inspection_phone.html", _phone_context(request, inspection))


@login_required
@require_POST
def finding_add(request, pk):
    inspection = selectors.get_inspection_for(request.user, pk)
    machines = selectors.machines_of(inspection)
    form = FindingForm(request.POST, request.FILES, machines=machines)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_finding(
                inspection,
                actor=request.user,
                machine=data["machine"],
                severity=data["severity"],
                title=data["title"],
                disposition=data["disposition"],
                action_taken=data["action_taken"],
                recommendation=data["recommendation"],
                note=data["note"],
                photo=data["photo"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except (DomainError, PermissionDenied) as error:
            _fail(request, error)
            return redirect("maintenance:inspection_phone", pk=pk)
        else:
            messages.success(request, _("Finding recorded."))
            return redirect("maintenance:inspection_phone", pk=pk)
    return render(request, "maintenance/inspection_phone.html", _phone_context(request, inspection, form), status=400)


def phone_today_panel(request, user) -> str:
    """The engineer's inspections under way, on his phone's home (slot `field.today`)."""
    if not can(user, Capability.WORK_IN_FIELD):
        return ""
    rows = list(selectors.active_inspections_of_engineer(user)[:10])
    if not rows:
        return ""
    return render_to_string("maintenance/_inspection_today.html", {"inspections": rows}, request=request)


def phone_order_panel(request, order) -> str:
    """On the phone page of an inspection's order: the way to its inspection (slot `field.order`)."""
    line = getattr(order, "inspection_machine", None) if order.pk else None
    try:
        inspection = selectors.get_inspection_for(request.user, line.inspection_id) if line else None
    except Http404:
        return ""
    if inspection is None:
        return ""
    return render_to_string("maintenance/_inspection_order.html", {"inspection": inspection}, request=request)


urlpatterns = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/new/", inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/report.pdf", inspection_pdf, name="inspection_pdf"),
    path("inspections/<int:pk>/phone/", inspection_phone, name="inspection_phone"),
    path("inspections/<int:pk>/findings/", finding_add, name="finding_add"),
    path("inspections/<int:pk>/<slug:verb>/", inspection_move, name="inspection_move"),
]
