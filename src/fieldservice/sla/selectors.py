"""What each user may see of SLA clocks, and how each clock stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.sla.calendar import CalendarSpec, business_minutes_between, load_calendars
from fieldservice.sla.choices import TARGET_ORDER, ClockState, OverdueState, TargetKind
from fieldservice.sla.models import BusinessCalendar, EscalationRule, Holiday, SlaClock, SlaPolicy
from fieldservice.sla.permissions import may_watch_overdue
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for

TARGET_RANK = Case(
    *[When(kind=kind, then=Value(rank)) for rank, kind in enumerate(TARGET_ORDER)],
    output_field=IntegerField(),
)
# A running clock is one the periodic check still watches.
RUNNING = Q(met_at__isnull=True, stopped_at__isnull=True, paused_at__isnull=True)


def clocks_for(order: WorkOrder) -> QuerySet[SlaClock]:
    """The order's clocks in the order of its milestones. The caller has looked the order up
    through `work_orders_for`, so the clocks are as visible as the order."""
    return SlaClock.objects.filter(work_order_id=order.pk).order_by(TARGET_RANK, "pk")


def clock_state(clock: SlaClock, now: datetime) -> str:
    if clock.stopped_at:
        return ClockState.STOPPED
    if clock.met_at:
        return ClockState.MET_LATE if clock.met_at > clock.due_at else ClockState.MET
    if clock.paused_at:
        return ClockState.PAUSED
    if now >= clock.due_at:
        return ClockState.BREACHED
    if now >= clock.at_risk_at:
        return ClockState.AT_RISK
    return ClockState.RUNNING


def minutes_left(spec: CalendarSpec, clock: SlaClock, now: datetime) -> float | None:
    """Business minutes to the due time (negative: overdue by that much); frozen while paused;
    None once met or stopped."""
    if clock.met_at or clock.stopped_at:
        return None
    moment = clock.paused_at or now
    if moment < clock.due_at:
        return business_minutes_between(spec, moment, clock.due_at)
    return -business_minutes_between(spec, clock.due_at, moment)


@dataclass(frozen=True)
class ClockRow:
    """A clock with how it stands at `now`, for pages and the API."""

    clock: SlaClock
    state: str
    minutes_left: float | None

    @property
    def kind(self) -> str:
        return self.clock.kind

    @property
    def target_label(self) -> str:
        return str(TargetKind(self.clock.kind).label)

    @property
    def state_label(self) -> str:
        return str(ClockState(self.state).label)

    @property
    def colour(self) -> str:
        return {
            ClockState.MET: "ok",
            ClockState.AT_RISK: "warn",
            ClockState.PAUSED: "warn",
            ClockState.BREACHED: "bad",
            ClockState.MET_LATE: "bad",
        }.get(self.state, "")


def clock_rows(clocks, now: datetime | None = None) -> list[ClockRow]:
    clocks = list(clocks)
    now = now or timezone.now()
    specs = load_calendars({clock.calendar_id for clock in clocks if not (clock.met_at or clock.stopped_at)})
    return [
        ClockRow(
            clock=clock,
            state=clock_state(clock, now),
            minutes_left=minutes_left(specs[clock.calendar_id], clock, now) if clock.calendar_id in specs else None,
        )
        for clock in clocks
    ]


def overdue_clocks_for(
    actor: User, *, target: str = "", state: str = "", query: str = "", now: datetime | None = None
) -> QuerySet[SlaClock]:
    """Running clocks of the orders the actor may see that have used 80 % of their target or
    more (`state` "at_risk": not yet breached; "breached": past due), most overdue first."""
    if not may_watch_overdue(actor):
        return SlaClock.objects.none()
    now = now or timezone.now()
    clocks = SlaClock.objects.filter(RUNNING, at_risk_at__lte=now).select_related("work_order__customer", "calendar")
    clocks = clocks.filter(work_order__in=work_orders_for(actor).values("pk"))
    if target in TargetKind.values:
        clocks = clocks.filter(kind=target)
    if state == OverdueState.BREACHED:
        clocks = clocks.filter(due_at__lte=now)
    elif state == OverdueState.AT_RISK:
        clocks = clocks.filter(due_at__gt=now)
    query = (query or "").strip()
    if query:
        clocks = clocks.filter(Q(work_order__number__icontains=query) | Q(work_order__customer__name__icontains=query))
    return clocks.order_by("due_at", "pk")


# Settings (administrators) ---------------------------------------------------------------------


def calendars() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.prefetch_related("periods").order_by("-is_default", "name")


def get_calendar(pk: int) -> BusinessCalendar:
    return get_object_or_404(BusinessCalendar, pk=pk)


def holidays_of(calendar: BusinessCalendar, year: int | None = None) -> QuerySet[Holiday]:
    holidays = calendar.holidays.order_by("date")
    return holidays.filter(date__year=year) if year else holidays


def get_holiday(pk: int) -> Holiday:
    return get_object_or_404(Holiday.objects.select_related("calendar"), pk=pk)


def policies() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar").prefetch_related("targets").order_by("-is_default", "name")


def get_policy(pk: int) -> SlaPolicy:
    return get_object_or_404(SlaPolicy.objects.select_related("calendar"), pk=pk)


def escalation_rules() -> QuerySet[EscalationRule]:
    return EscalationRule.objects.order_by("position", "pk")


def get_rule(pk: int) -> EscalationRule:
    return get_object_or_404(EscalationRule, pk=pk)
