"""Scheduling pages (/schedule/): the visit of an order, absences, default durations, the
engineer's own schedule and his private calendar feed."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.htmx import wants_fragment
from fieldservice.core.listing import Column, Listing
from fieldservice.scheduling import ical, selectors, services
from fieldservice.scheduling.forms import AbsenceFilterForm, AbsenceForm, DurationForm, VisitForm
from fieldservice.scheduling.panel import panel_context
from fieldservice.scheduling.permissions import may_edit_visit, may_have_feed, may_manage_schedules
from fieldservice.workorders.selectors import get_work_order_for

UPCOMING_DAYS = 7


def _visit_list(visits) -> str:
    return ", ".join(
        f"{visit.work_order.number} ({timezone.localtime(visit.planned_start):%m-%d %H:%M})" for visit in visits
    )


# The visit of an order --------------------------------------------------------------------------------


def _panel_response(request, order, form=None, status=200):
    """The panel alone for htmx (swapped into the order page), else a page around it."""
    context = panel_context(order, request.user, form)
    if wants_fragment(request):
        return render(request, "scheduling/_visit_panel.html", context, status=status)
    return render(request, "scheduling/visit_page.html", context, status=status)


@login_required
def order_visit(request, pk):
    order = get_work_order_for(request.user, pk)
    if request.method != "POST":
        return _panel_response(request, order)
    if not may_edit_visit(request.user, order):
        raise PermissionDenied
    form = VisitForm(request.POST, auto_id=f"visit-{order.pk}-%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.schedule_visit(
                order,
                actor=request.user,
                planned_start=data["planned_start"],
                duration_minutes=data["duration_minutes"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                is_pinned=data["is_pinned"],
                note=data["note"],
                version=data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            start = timezone.localtime(visit.planned_start)
            messages.success(
                request,
                _("Visit of %(number)s planned for %(start)s.")
                % {"number": order.number, "start": f"{start:%Y-%m-%d %H:%M}"},
            )
            if wants_fragment(request):
                return _panel_response(request, order)
            return redirect("workorders:order_detail", pk=order.pk)
    return _panel_response(request, order, form, status=422 if wants_fragment(request) else 200)


# Absences ---------------------------------------------------------------------------------------------


ABSENCES = Listing(
    columns=[
        Column(gettext_lazy("Engineer"), lambda a: str(a.engineer)),
        Column(gettext_lazy("Kind"), lambda a: a.get_kind_display()),
        Column(gettext_lazy("From"), lambda a: a.starts_at, date="Y-m-d H:i"),
        Column(gettext_lazy("Until"), lambda a: a.ends_at, date="Y-m-d H:i"),
        Column(gettext_lazy("Note"), lambda a: a.note),
        Column("", cell="scheduling/cells/absence_delete.html", export=False, when="manage"),
    ],
    filter_form=AbsenceFilterForm,
    button=gettext_lazy("Search"),
    order=("starts_at", "pk"),
    row_id="absence",
    empty=gettext_lazy("No absences."),
    export_name="absences",
    export_title=gettext_lazy("Absences"),
)


def _require_absences(user) -> None:
    require(may_manage_schedules(user) or can(user, Capability.WORK_IN_FIELD))


@login_required
def absences(request):
    _require_absences(request.user)
    manage = may_manage_schedules(request.user)
    engineers = selectors.schedulable_engineers(request.user)
    form = None
    if manage:
        form = AbsenceForm(request.POST or None, engineers=engineers)
    if request.method == "POST":
        require(manage)
        if form.is_valid():
            data = form.cleaned_data
            try:
                absence = services.create_absence(actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Absence of %(name)s saved.") % {"name": absence.engineer})
                hit = selectors.visits_overlapping(absence.engineer, absence.starts_at, absence.ends_at)
                if hit:
                    messages.warning(
                        request,
                        _("Planned visits in this time need another slot or engineer: %(visits)s.")
                        % {"visits": _visit_list(hit)},
                    )
                return redirect("scheduling:absences")
    filter_form = ABSENCES.filters(request, engineers=engineers)
    items = selectors.absences_for(request.user)
    if filter_form.is_valid():
        if filter_form.cleaned_data.get("engineer"):
            items = items.filter(engineer=filter_form.cleaned_data["engineer"])
        if filter_form.cleaned_data.get("day"):
            day = filter_form.cleaned_data["day"]
            start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            items = items.filter(starts_at__lt=start + dt.timedelta(days=1), ends_at__gt=start)
    elif not request.GET:
        # Without a filter the list starts with what is still ahead.
        items = items.filter(ends_at__gt=timezone.now())
    return ABSENCES.render(
        request,
        "scheduling/absence_list.html",
        items,
        filters=filter_form,
        hide_filters=() if manage else ("engineer",),
        context={"form": form, "manage": manage},
    )


@login_required
@require_POST
def absence_delete(request, pk):
    absence = selectors.get_absence_for(request.user, pk)
    try:
        services.delete_absence(absence, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Absence deleted."))
    return redirect("scheduling:absences")


# Default durations ------------------------------------------------------------------------------------


@login_required
def durations(request):
    require(may_manage_schedules(request.user))
    form = DurationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            default = services.set_duration_default(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Default duration saved: %(default)s min.") % {"default": default.minutes})
            return redirect("scheduling:durations")
    return render(
        request,
        "scheduling/durations.html",
        {"form": form, "defaults": selectors.duration_defaults(), "fallback": services.FALLBACK_DURATION_MINUTES},
    )


@login_required
@require_POST
def duration_delete(request, pk):
    require(may_manage_schedules(request.user))
    default = get_object_or_404(selectors.duration_defaults(), pk=pk)
    services.delete_duration_default(default, actor=request.user)
    messages.success(request, _("Default duration deleted."))
    return redirect("scheduling:durations")


# The engineer's own schedule --------------------------------------------------------------------------


def _require_engineer(user) -> None:
    require(can(user, Capability.WORK_IN_FIELD) and may_have_feed(user))


@login_required
def my_schedule(request):
    _require_engineer(request.user)
    user = request.user
    now = timezone.localtime()
    today = now.date()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = start + dt.timedelta(days=UPCOMING_DAYS + 1)
    visits = list(selectors.engineer_schedule(user, start, end))
    days = []
    for offset in range(UPCOMING_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        day_visits = [v for v in visits if timezone.localtime(v.planned_start).date() == day]
        days.append({"day": day, "visits": day_visits, "is_today": offset == 0})
    profile = getattr(user, "engineer_profile", None)
    context = {
        "days": days,
        "shift": selectors.shift_periods(profile, today),
        "working": selectors.working_periods(user, today),
        "absences": list(selectors.absences_for(user).filter(engineer=user, ends_at__gt=start, starts_at__lt=end)),
        "now": now,
    }
    return render(request, "scheduling/my_schedule.html", context)


def _feed_url(request, feed) -> str:
    return request.build_absolute_uri(reverse("scheduling:ical", args=[feed.token]))


@login_required
def my_feed(request):
    _require_engineer(request.user)
    feed = services.calendar_feed_of(request.user, actor=request.user)
    return render(request, "scheduling/my_feed.html", {"feed": feed, "feed_url": _feed_url(request, feed)})


@login_required
@require_POST
def my_feed_rotate(request):
    _require_engineer(request.user)
    services.rotate_calendar_feed(request.user, actor=request.user)
    messages.success(request, _("New calendar address made. The old address no longer works."))
    return redirect("scheduling:my_feed")


@require_GET
def ical_feed(request, token):
    """No login: the token in the address is the key. A rotated or unknown token is a 404."""
    feed = selectors.feed_by_token(token)
    if not may_have_feed(feed.user):
        raise Http404
    now = timezone.now()
    start, end = ical.feed_window(now)
    visits = selectors.engineer_schedule(feed.user, start, end)
    body = ical.render_calendar(
        visits,
        name=_("Visits of %(name)s") % {"name": feed.user},
        domain=ical.UID_DOMAIN,
        now=now,
        order_url=lambda visit: request.build_absolute_uri(reverse("field:order", args=[visit.work_order_id])),
    )
    services.mark_feed_fetched(feed, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="visits.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
