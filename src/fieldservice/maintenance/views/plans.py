"""Pages of plans: the plan list, detail and form, the due visits, the plan calendar (due visits
by week, area and engineer, with its export), "generate now", the machine page's panel (its last
readings and the plans covering it, with the record-a-reading form) and the customer's reading
on the machine's public QR page."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import MeterSource
from fieldservice.assets.selectors import equipment_by_public_token, get_equipment_for
from fieldservice.assets.services import record_meter_reading
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.dispatch.models import Assignment
from fieldservice.maintenance.forms.plans import (
    PART_ROWS,
    DueFilterForm,
    PlanFilterForm,
    PlanForm,
    PublicReadingForm,
    ReadingForm,
)
from fieldservice.maintenance.selectors import plans as selectors
from fieldservice.maintenance.services import plans as services

PLANS = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda p: p.name, link=lambda p: reverse("maintenance:plan_detail", args=[p.pk])),
        Column(gettext_lazy("Applies to"), lambda p: p.get_scope_display()),
        Column(gettext_lazy("Machine, model or contract"), lambda p: services.plan_target_label(p)),
        Column(gettext_lazy("Every (months)"), lambda p: p.interval_months, default="—"),
        Column(gettext_lazy("Every (operating hours)"), lambda p: p.interval_hours, default="—"),
        Column(gettext_lazy("Lead days"), lambda p: p.lead_days),
        Column(gettext_lazy("Service type"), lambda p: p.get_service_type_display()),
        Column(gettext_lazy("Active"), lambda p: p.is_active, cell="core/cells/active.html"),
        Column(gettext_lazy("Start"), lambda p: p.starts_on, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("End"), lambda p: p.ends_on, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Owner"), lambda p: str(p.owner) if p.owner_id else "", default="—"),
    ],
    filter_form=PlanFilterForm,
    search=gettext_lazy("Name, model, serial or contract"),
    order=("name", "pk"),
    empty=gettext_lazy("No maintenance plans yet."),
    empty_filtered=gettext_lazy("No plan matches these filters."),
    export_name="maintenance-plans",
    export_title=gettext_lazy("Maintenance plans"),
)


def _engineer_name(visit) -> str:
    return getattr(visit, "engineer_name", None) or ""


DUE_VISITS = Listing(
    columns=[
        Column(gettext_lazy("Due"), lambda v: v.due_on, date="SHORT_DATE_FORMAT"),
        Column(
            gettext_lazy("Machine"),
            lambda v: str(v.equipment),
            link=lambda v: reverse("assets:equipment_detail", args=[v.equipment_id]),
        ),
        Column(gettext_lazy("Customer"), lambda v: v.equipment.customer.name),
        Column(gettext_lazy("Area"), lambda v: v.equipment.site.city if v.equipment.site_id else "", default="—"),
        Column(gettext_lazy("Plan"), lambda v: v.plan.name),
        Column(gettext_lazy("Due by"), lambda v: v.get_reason_display()),
        Column(
            gettext_lazy("Work order"),
            lambda v: v.work_order.number if v.work_order_id else "",
            link=lambda v: reverse("workorders:order_detail", args=[v.work_order_id]) if v.work_order_id else None,
            default="—",
        ),
        Column(gettext_lazy("Status"), lambda v: v.work_order.get_status_display() if v.work_order_id else ""),
        Column(gettext_lazy("Engineer"), _engineer_name, default="—"),
    ],
    filter_form=DueFilterForm,
    search=gettext_lazy("Serial, customer, plan or order"),
    order=("due_on", "pk"),
    empty=gettext_lazy("No visits are due. The plans make them due as their dates come near."),
    empty_filtered=gettext_lazy("No due visit matches these filters."),
    export_name="due-visits",
    export_title=gettext_lazy("Due visits"),
)

CALENDAR = Listing(
    columns=[
        Column(gettext_lazy("Week of"), lambda r: r["week"], date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Area"), lambda r: r["area"], default="—"),
        Column(gettext_lazy("Engineer"), lambda r: r["engineer"], default="—"),
        Column(gettext_lazy("Visits due"), lambda r: r["count"]),
    ],
    filter_form=DueFilterForm,
    search=gettext_lazy("Serial, customer, plan or order"),
    empty=gettext_lazy("Nothing is due in these weeks."),
    empty_filtered=gettext_lazy("Nothing due matches these filters."),
    export_name="maintenance-calendar",
    export_title=gettext_lazy("Maintenance calendar"),
)


def _view(user) -> None:
    require(can(user, Capability.VIEW_MAINTENANCE))


def _with_engineers(visits):
    lead = Assignment.objects.filter(work_order_id=OuterRef("work_order_id"), status__in=["offered", "accepted"])
    return visits.annotate(engineer_name=Subquery(lead.order_by("role", "pk").values("engineer__username")[:1]))


def _filtered_visits(request, filters):
    values = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    visits = selectors.due_visits_for(request.user)
    return selectors.filter_due_visits(
        visits,
        text=request.GET.get("q", "")[:100],
        start=values.get("start"),
        end=values.get("end"),
        area=values.get("area") or "",
        engineer=values.get("engineer"),
    )


@login_required
def plan_list(request):
    _view(request.user)
    filters = PLANS.filters(request)
    values = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    plans = selectors.search_plans(
        request.user, request.GET.get("q", "")[:100], scope=values.get("scope") or "", active=values.get("active") or ""
    )
    return PLANS.render(
        request,
        "maintenance/plan_list.html",
        plans,
        filters=filters,
        context={"may_manage": services.may_manage_plans(request.user)},
    )


@login_required
def plan_detail(request, pk):
    plan = selectors.get_plan_for(request.user, pk)
    visits = _with_engineers(selectors.due_visits_for(request.user).filter(plan=plan)).order_by("-due_on")[:20]
    return render(
        request,
        "maintenance/plan_detail.html",
        {
            "plan": plan,
            "target": services.plan_target_label(plan),
            "parts": plan.parts.select_related("part"),
            "visits": visits,
            "warnings": services.plan_warnings(plan),
            "may_manage": services.may_manage_plans(request.user),
        },
    )


def _save(request, plan=None):
    require(services.may_manage_plans(request.user))
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                if plan is None:
                    plan = services.create_plan(actor=request.user, parts=form.parts(), **form.plan_values())
                else:
                    plan = services.update_plan(plan, actor=request.user, parts=form.parts(), **form.plan_values())
            except ValidationError as error:
                add_service_errors(form, error, aliases={"parts": "part_0"})
            else:
                messages.success(request, _("Plan %(name)s saved.") % {"name": plan.name})
                for warning in services.plan_warnings(plan):
                    messages.warning(request, warning)
                return redirect("maintenance:plan_detail", pk=plan.pk)
    else:
        initial = PlanForm.initial_of(plan) if plan else {"starts_on": timezone.localdate(), "owner": request.user}
        form = PlanForm(initial=initial)
    part_rows = [(form[f"part_{i}"], form[f"quantity_{i}"]) for i in range(PART_ROWS)]
    return render(request, "maintenance/plan_form.html", {"form": form, "plan": plan, "part_rows": part_rows})


@login_required
def plan_create(request):
    return _save(request)


@login_required
def plan_edit(request, pk):
    return _save(request, selectors.get_plan_for(request.user, pk))


@login_required
@require_POST
def generate_now(request):
    """Runs the periodic check's own service, now."""
    try:
        summary = services.generate_due_visits(actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(orders)d work orders opened for %(due)d due visits.")
            % {"orders": summary.orders_opened, "due": summary.due_written},
        )
    return redirect(
        request.POST.get("next") if request.POST.get("next", "").startswith("/") else "maintenance:due_list"
    )


@login_required
def due_list(request):
    _view(request.user)
    filters = DUE_VISITS.filters(request)
    visits = _with_engineers(_filtered_visits(request, filters))
    return DUE_VISITS.render(
        request,
        "maintenance/due_list.html",
        visits,
        filters=filters,
        context={"may_manage": services.may_manage_plans(request.user)},
    )


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@login_required
def calendar(request):
    """What is due by week, area and engineer: counts of the due visits the filters keep (the next
    eight weeks by default)."""
    _view(request.user)
    filters = CALENDAR.filters(request)
    visits = _filtered_visits(request, filters)
    if not request.GET.get("start") and not request.GET.get("end"):
        today = timezone.localdate()
        visits = visits.filter(due_on__gte=week_of(today), due_on__lt=week_of(today) + dt.timedelta(weeks=8))
    counts = Counter(
        (week_of(due_on), city or province or "", engineer or "")
        for due_on, city, province, engineer in _with_engineers(visits).values_list(
            "due_on", "equipment__site__city", "equipment__site__province", "engineer_name"
        )
    )
    rows = [
        {"week": week, "area": area, "engineer": engineer, "count": count}
        for (week, area, engineer), count in sorted(counts.items())
    ]
    return CALENDAR.render(request, "maintenance/calendar.html", rows, filters=filters)


# ---------------------------------------------------------------- the machine page


def machine_panel(request, equipment) -> str:
    """The machine page's panel (`core.panels` slot "assets.equipment"): the last readings, the
    plans covering the machine with their next due date, and the record-a-reading form."""
    user = request.user
    if not can(user, Capability.VIEW_MAINTENANCE):
        return ""
    plans = list(selectors.plans_of_machine(user, equipment))
    next_due = selectors.next_due_of_machine(equipment)
    return render_to_string(
        "maintenance/_machine_panel.html",
        {
            "equipment": equipment,
            "readings": equipment.meter_readings.select_related("recorded_by").order_by("-read_at", "-pk")[:5],
            "plans": [(plan, next_due.get(plan.pk)) for plan in plans],
            "form": ReadingForm(),
        },
        request=request,
    )


def _reading_source(user) -> str:
    if user.organisation_kind == OrganisationKind.CUSTOMER:
        return MeterSource.CUSTOMER
    if "engineer" in user.role_codes:
        return MeterSource.ENGINEER
    return MeterSource.OFFICE


@login_required
@require_POST
def record_reading(request, pk):
    """The office, the engineer or the customer records a reading of a machine they can see."""
    equipment = get_equipment_for(request.user, pk)
    _view(request.user)
    form = ReadingForm(request.POST)
    if form.is_valid():
        try:
            record_meter_reading(
                equipment,
                actor=request.user,
                value=form.cleaned_data["value"],
                meter=form.cleaned_data["meter"],
                note=form.cleaned_data["note"],
                source=_reading_source(request.user),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Reading recorded."))
            return redirect("assets:equipment_detail", pk=equipment.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("assets:equipment_detail", pk=equipment.pk)


# ---------------------------------------------------------------- the QR page

PUBLIC_READINGS_PER_MACHINE_PER_HOUR = 3
PUBLIC_READINGS_PER_IP_PER_HOUR = 10


def _rate_limited(equipment, ip: str | None) -> bool:
    since = timezone.now() - dt.timedelta(hours=1)
    recent = equipment.meter_readings.filter(source=MeterSource.CUSTOMER, recorded_by__isnull=True, read_at__gte=since)
    if recent.count() >= PUBLIC_READINGS_PER_MACHINE_PER_HOUR:
        return True
    if ip:
        key = f"maintenance:public-reading:{ip}"
        cache.add(key, 0, 3600)
        if cache.incr(key) > PUBLIC_READINGS_PER_IP_PER_HOUR:
            return True
    return False


def public_panel(request, equipment) -> str:
    """The reading form on the machine's public page (slot "assets.public_equipment")."""
    if not equipment.is_registered:
        return ""
    return render_to_string(
        "maintenance/_public_reading.html", {"equipment": equipment, "form": PublicReadingForm()}, request=request
    )


def public_reading(request, token):
    """Anyone holding the machine's QR code may give its operating hours; no login, limited per
    machine and per address like the fault report."""
    equipment = equipment_by_public_token(token)
    form = PublicReadingForm(request.POST or None)
    status = 200
    done = False
    if request.method == "POST" and form.is_valid():
        if not equipment.is_registered:
            form.add_error(None, _("This machine is no longer registered for service."))
            status = 409
        elif _rate_limited(equipment, request.META.get("REMOTE_ADDR")):
            form.add_error(None, _("Too many readings in the last hour. Please try again later."))
            status = 429
        else:
            try:
                record_meter_reading(
                    equipment, actor=None, value=form.cleaned_data["value"], source=MeterSource.CUSTOMER
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                done = True
    response: HttpResponse = render(
        request, "maintenance/public_reading.html", {"equipment": equipment, "form": form, "done": done}, status=status
    )
    return response


urlpatterns = [
    path("plans/", plan_list, name="plan_list"),
    path("plans/new/", plan_create, name="plan_create"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plan_edit, name="plan_edit"),
    path("plans/generate/", generate_now, name="generate_now"),
    path("due/", due_list, name="due_list"),
    path("calendar/", calendar, name="calendar"),
    path("machines/<int:pk>/readings/", record_reading, name="record_reading"),
]
