"""SLA pages: the overdue list, and the administrator's calendars, policies and escalation rules."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.core.errors import require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import date_bounds, parse_id
from fieldservice.sla import selectors, services
from fieldservice.sla.choices import ClockState, Weekday
from fieldservice.sla.forms import CalendarForm, HolidayForm, LoadHolidaysForm, OverdueFilterForm, PolicyForm, RuleForm
from fieldservice.sla.permissions import may_manage_sla, may_watch_overdue
from fieldservice.sla.services.calendars import calendar_hours
from fieldservice.sla.services.clocks import TARGET_FIELDS
from fieldservice.sla.services.escalation import RULE_FIELDS
from fieldservice.sla.services.policies import target_field
from fieldservice.workorders.choices import Priority


def _state_label(clock) -> str:
    return str(ClockState(selectors.clock_state(clock, timezone.now())).label)


OVERDUE = Listing(
    columns=[
        Column(
            gettext_lazy("Work order"),
            lambda c: c.work_order.number,
            cell="<a href=\"{% url 'workorders:order_detail' row.clock.work_order.pk %}\">"
            "{{ row.clock.work_order.number }}</a>",
        ),
        Column(
            gettext_lazy("Customer"),
            lambda c: c.work_order.customer.name,
            cell="{{ row.clock.work_order.customer.name }}",
        ),
        Column(
            gettext_lazy("Priority"),
            lambda c: c.work_order.get_priority_display(),
            cell="{{ row.clock.work_order.get_priority_display }}",
        ),
        Column(gettext_lazy("Target"), lambda c: c.get_kind_display(), cell="{{ row.target_label }}"),
        Column(gettext_lazy("Due at"), lambda c: c.due_at, cell='{{ row.clock.due_at|date:"Y-m-d H:i" }}'),
        Column(
            gettext_lazy("Business time left"),
            cell="sla/cells/time_left.html",
            export=False,
        ),
        Column(
            gettext_lazy("State"),
            _state_label,
            cell='<span class="badge {{ row.colour }}">{{ row.state_label }}</span>',
        ),
    ],
    page_rows=selectors.clock_rows,
    filter_form=OverdueFilterForm,
    search=gettext_lazy("Number or customer"),
    empty=gettext_lazy("Nothing is overdue or at risk."),
    empty_filtered=gettext_lazy("No clock matches this search."),
    export_name="sla-overdue",
    export_title=gettext_lazy("Overdue"),
)


@login_required
def overdue(request):
    require(may_watch_overdue(request.user))
    filter_form = OVERDUE.filters(request)
    filters = filter_form.filters() if request.GET else {}
    now = timezone.now()
    clocks = selectors.overdue_clocks_for(request.user, query=request.GET.get("q", ""), now=now, **filters)
    return OVERDUE.render(request, "sla/overdue_list.html", clocks, filters=filter_form, context={"now": now})


def _require_manage(user) -> None:
    require(may_manage_sla(user))


@login_required
def settings(request):
    _require_manage(request.user)
    return render(
        request,
        "sla/settings.html",
        {
            "calendars": selectors.calendars(),
            "policies": selectors.policies(),
            "rules": selectors.escalation_rules(),
        },
    )


# Calendars -------------------------------------------------------------------------------------


def _calendar_form_page(request, form, calendar):
    return render(request, "sla/calendar_form.html", {"form": form, "calendar": calendar})


@login_required
def calendar_create(request):
    _require_manage(request.user)
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.create_calendar(
                actor=request.user,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
                is_default=form.cleaned_data["is_default"],
                hours=form.hours(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Calendar “%(name)s” saved.") % {"name": calendar.name})
            return redirect("sla:calendar_detail", pk=calendar.pk)
    return _calendar_form_page(request, form, None)


@login_required
def calendar_edit(request, pk):
    _require_manage(request.user)
    calendar = selectors.get_calendar(pk)
    initial = {"name": calendar.name, "time_zone": calendar.time_zone, "is_default": calendar.is_default}
    form = CalendarForm(request.POST or None, initial=initial, calendar=calendar)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_calendar(
                calendar,
                actor=request.user,
                hours=form.hours(),
                **{name: form.cleaned_data[name] for name in ("name", "time_zone", "is_default")},
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Calendar “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("sla:calendar_detail", pk=calendar.pk)
    return _calendar_form_page(request, form, calendar)


def _calendar_page(request, calendar, *, holiday_form=None, load_form=None, status=200):
    years = services.shipped_holiday_years()
    year_param = request.GET.get("year", "")
    holidays = selectors.holidays_of(calendar)
    holiday_years = sorted({day.year for day in holidays.values_list("date", flat=True)})
    year = parse_id(year_param)
    if year is not None and not date_bounds()[0].year <= year <= date_bounds()[1].year:
        year = None
    if year is None:
        today = timezone.localdate().year
        year = today if today in holiday_years or not holiday_years else holiday_years[-1]
    hours = calendar_hours(calendar)
    return render(
        request,
        "sla/calendar_detail.html",
        {
            "calendar": calendar,
            "hours": [(label, hours[value]) for value, label in Weekday.choices],
            "holidays": selectors.holidays_of(calendar, year),
            "year": year,
            "holiday_years": holiday_years,
            "holiday_form": holiday_form or HolidayForm(),
            "load_form": load_form or LoadHolidaysForm(years=years),
            "shipped_years": years,
        },
        status=status,
    )


@login_required
def calendar_detail(request, pk):
    _require_manage(request.user)
    return _calendar_page(request, selectors.get_calendar(pk))


@login_required
@require_POST
def holiday_add(request, pk):
    _require_manage(request.user)
    calendar = selectors.get_calendar(pk)
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            holiday = services.add_holiday(calendar, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(date)s “%(name)s” added.") % {"date": holiday.date, "name": holiday.name})
            return redirect(f"{_calendar_url(calendar)}?year={holiday.date.year}")
    return _calendar_page(request, calendar, holiday_form=form, status=422)


@login_required
@require_POST
def holiday_load(request, pk):
    _require_manage(request.user)
    calendar = selectors.get_calendar(pk)
    form = LoadHolidaysForm(request.POST, years=services.shipped_holiday_years())
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            count = services.load_shipped_holidays(calendar, actor=request.user, year=year)
        except ValidationError as error:
            add_service_errors(form, error, aliases={"file": "year"})
        else:
            messages.success(
                request,
                _("%(count)d holidays and adjusted working days of %(year)s loaded.") % {"count": count, "year": year},
            )
            return redirect(f"{_calendar_url(calendar)}?year={year}")
    return _calendar_page(request, calendar, load_form=form, status=422)


@login_required
@require_POST
def holiday_delete(request, pk):
    _require_manage(request.user)
    holiday = selectors.get_holiday(pk)
    calendar = holiday.calendar
    services.delete_holiday(holiday, actor=request.user)
    messages.success(request, _("%(date)s “%(name)s” removed.") % {"date": holiday.date, "name": holiday.name})
    return redirect(f"{_calendar_url(calendar)}?year={holiday.date.year}")


def _calendar_url(calendar) -> str:
    return reverse("sla:calendar_detail", args=[calendar.pk])


# Policies --------------------------------------------------------------------------------------


def _policy_initial(policy) -> dict:
    initial = {
        "code": policy.code,
        "name": policy.name,
        "calendar": policy.calendar_id,
        "customer_tier": policy.customer_tier,
        "is_default": policy.is_default,
        "is_active": policy.is_active,
        "description": policy.description,
    }
    for target in policy.targets.all():
        for kind, field in TARGET_FIELDS.items():
            initial[target_field(target.priority, kind)] = getattr(target, field)
    return initial


def _policy_page(request, form, policy):
    return render(request, "sla/policy_form.html", {"form": form, "policy": policy, "priorities": Priority})


@login_required
def policy_create(request):
    _require_manage(request.user)
    form = PolicyForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_policy(actor=request.user, targets=form.targets(), **form.policy_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": policy.name})
            return redirect("sla:settings")
    return _policy_page(request, form, None)


@login_required
def policy_edit(request, pk):
    _require_manage(request.user)
    policy = selectors.get_policy(pk)
    form = PolicyForm(request.POST or None, initial=_policy_initial(policy))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(policy, actor=request.user, targets=form.targets(), **form.policy_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Policy “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("sla:settings")
    return _policy_page(request, form, policy)


# Escalation rules ------------------------------------------------------------------------------


def _rule_page(request, form, rule):
    return render(request, "sla/rule_form.html", {"form": form, "rule": rule})


@login_required
def rule_create(request):
    _require_manage(request.user)
    form = RuleForm(request.POST or None, initial={"is_active": True, "position": 0})
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.create_rule(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Escalation rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("sla:settings")
    return _rule_page(request, form, None)


@login_required
def rule_edit(request, pk):
    _require_manage(request.user)
    rule = selectors.get_rule(pk)
    initial = {name: getattr(rule, name) for name in RULE_FIELDS}
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rule(rule, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Escalation rule “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("sla:settings")
    return _rule_page(request, form, rule)


@login_required
@require_POST
def rule_delete(request, pk):
    _require_manage(request.user)
    rule = selectors.get_rule(pk)
    services.delete_rule(rule, actor=request.user)
    messages.success(request, _("Escalation rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("sla:settings")
