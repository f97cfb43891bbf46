"""When engineers can work, which visits a user may see, and what is wrong with a proposed slot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Absence, CalendarFeed, DurationDefault, Visit
from fieldservice.scheduling.permissions import may_manage_schedules
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# An engineer whose profile has no weekly hours works the common office day.
DEFAULT_WORKING_HOURS = {day: [["08:30", "12:00"], ["13:00", "17:30"]] for day in WEEKDAYS[:5]}

Period = tuple[dt.datetime, dt.datetime]


def visits_for(actor: User) -> QuerySet[Visit]:
    """Visits of the orders the actor may see; an engineer sees those of his own orders."""
    return Visit.objects.select_related("work_order__customer", "work_order__site", "engineer").filter(
        work_order__in=work_orders_for(actor)
    )


def get_visit_for(actor: User, pk: int) -> Visit:
    return get_object_or_404(visits_for(actor), pk=pk)


def planned_visit(order: WorkOrder) -> Visit | None:
    return order.visits.filter(status=VisitStatus.PLANNED).first()


def engineer_visits(engineer: User, start: dt.datetime, end: dt.datetime) -> QuerySet[Visit]:
    """The engineer's planned visits that begin before `end`; callers drop those ending before `start`
    (the end is computed, so it cannot be filtered in SQL portably)."""
    return (
        Visit.objects.filter(engineer=engineer, status=VisitStatus.PLANNED, planned_start__lt=end)
        .filter(planned_start__gte=start - dt.timedelta(days=1))
        .select_related("work_order")
    )


def _parse(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    moment = dt.datetime.combine(day, dt.time(0, 0)) + dt.timedelta(hours=hours, minutes=minutes)
    return timezone.make_aware(moment)


def shift_periods(profile: EngineerProfile | None, day: dt.date) -> list[Period]:
    """The weekly pattern for that day, before absences."""
    hours = (profile.working_hours if profile is not None else None) or DEFAULT_WORKING_HOURS
    periods = []
    for start, end in hours.get(WEEKDAYS[day.weekday()], []):
        begin, finish = _parse(day, start), _parse(day, end)
        if finish > begin:
            periods.append((begin, finish))
    return sorted(periods)


def _subtract(periods: list[Period], holes: list[Period]) -> list[Period]:
    result = []
    for start, end in periods:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            next_pieces = []
            for piece_start, piece_end in pieces:
                if hole_end <= piece_start or hole_start >= piece_end:
                    next_pieces.append((piece_start, piece_end))
                    continue
                if hole_start > piece_start:
                    next_pieces.append((piece_start, hole_start))
                if hole_end < piece_end:
                    next_pieces.append((hole_end, piece_end))
            pieces = next_pieces
        result.extend(pieces)
    return result


def absences_between(engineer: User, start: dt.datetime, end: dt.datetime) -> QuerySet[Absence]:
    return Absence.objects.filter(engineer=engineer, starts_at__lt=end, ends_at__gt=start)


def working_periods(engineer: User, day: dt.date) -> list[Period]:
    """When the engineer works on `day` (aware datetimes in the current time zone): the weekly
    shift minus absences. Empty when he is off or away all day."""
    profile = EngineerProfile.objects.filter(user=engineer).first()
    periods = shift_periods(profile, day)
    if not periods:
        return []
    holes = [(a.starts_at, a.ends_at) for a in absences_between(engineer, periods[0][0], periods[-1][1])]
    return _subtract(periods, holes)


@dataclass(frozen=True)
class Conflict:
    code: str
    message: str
    blocking: bool  # a blocking conflict refuses the move; the others are warnings


def slot_conflicts(
    order: WorkOrder,
    *,
    engineer: User,
    start: dt.datetime,
    duration_minutes: int,
    ignore_visit: Visit | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
) -> list[Conflict]:
    """What is wrong with giving `order` to `engineer` from `start` for `duration_minutes`:
    skill, leave, overlap with his other visits, outside his shift, outside the customer's window.
    The window is `window_start`/`window_end` when given (a window being agreed now), else the
    one stored on `ignore_visit`."""
    end = start + dt.timedelta(minutes=duration_minutes)
    conflicts: list[Conflict] = []
    # An engineer without a profile is still an engineer (dispatch accepts him): he works the
    # default hours and has no skills. Only the role and the active flag decide.
    if not engineer.is_active or not engineer.has_role(Role.ENGINEER):
        conflicts.append(Conflict("not_an_engineer", _("%(name)s is not an engineer.") % {"name": engineer}, True))
        return conflicts
    profile = EngineerProfile.objects.filter(user=engineer).prefetch_related("skills").first()
    skill = order.fault_category.skill if order.fault_category_id else None
    skills = {s.skill_id for s in profile.skills.all()} if profile is not None else set()
    if skill is not None and skill.pk not in skills:
        conflicts.append(
            Conflict(
                "skill",
                _("%(name)s does not have the skill %(skill)s.") % {"name": engineer, "skill": skill},
                True,
            )
        )
    local_start = timezone.localtime(start)
    absences = list(absences_between(engineer, start, end))
    if absences:
        conflicts.append(
            Conflict(
                "absent",
                _("%(name)s is away then (%(kind)s).") % {"name": engineer, "kind": absences[0].get_kind_display()},
                True,
            )
        )
    others = engineer_visits(engineer, start, end).exclude(work_order=order)
    if ignore_visit is not None:
        others = others.exclude(pk=ignore_visit.pk)
    for other in others:
        if other.planned_end > start:
            conflicts.append(
                Conflict(
                    "overlap",
                    _("Overlaps %(number)s (%(start)s–%(end)s).")
                    % {
                        "number": other.work_order.number,
                        "start": timezone.localtime(other.planned_start).strftime("%H:%M"),
                        "end": timezone.localtime(other.planned_end).strftime("%H:%M"),
                    },
                    True,
                )
            )
    periods = shift_periods(profile, local_start.date())
    if not any(period_start <= start and end <= period_end for period_start, period_end in periods):
        conflicts.append(Conflict("outside_shift", _("Outside %(name)s's shift.") % {"name": engineer}, True))
    if window_start is None and window_end is None and ignore_visit is not None:
        window_start, window_end = ignore_visit.window_start, ignore_visit.window_end
    if window_start and window_end and not (window_start <= start <= window_end):
        conflicts.append(Conflict("window", _("Outside the time window agreed with the customer."), False))
    return conflicts


def visits_between(actor: User, start: dt.datetime, end: dt.datetime, engineers=None) -> QuerySet[Visit]:
    visits = visits_for(actor).filter(status=VisitStatus.PLANNED, planned_start__lt=end, planned_start__gte=start)
    if engineers is not None:
        visits = visits.filter(Q(engineer__in=engineers))
    return visits


def visits_overlapping(engineer: User, start: dt.datetime, end: dt.datetime) -> list[Visit]:
    """The engineer's planned visits that overlap [start, end): what an absence there hits."""
    return [visit for visit in engineer_visits(engineer, start, end) if visit.planned_end > start]


def engineer_schedule(engineer: User, start: dt.datetime, end: dt.datetime) -> QuerySet[Visit]:
    """The engineer's own visits (any status) starting in [start, end), for his phone and feed:
    only those where he is the visit's engineer, not every order he ever touched."""
    return (
        Visit.objects.filter(engineer=engineer, planned_start__gte=start, planned_start__lt=end)
        .exclude(status=VisitStatus.CANCELLED)
        .select_related("work_order__customer", "work_order__site", "work_order__fault_category")
        .order_by("planned_start", "pk")
    )


# Absences -----------------------------------------------------------------------------------------


def absences_for(actor: User) -> QuerySet[Absence]:
    """Schedulers see every engineer's absences; an engineer sees his own; nobody else any."""
    absences = Absence.objects.select_related("engineer", "created_by")
    if may_manage_schedules(actor):
        return absences
    if actor.is_authenticated and actor.has_role(Role.ENGINEER):
        return absences.filter(engineer=actor)
    return absences.none()


def get_absence_for(actor: User, pk: int) -> Absence:
    return get_object_or_404(absences_for(actor), pk=pk)


def schedulable_engineers(actor: User) -> QuerySet[User]:
    """Engineers a scheduler may give absences to: active users with the engineer role."""
    if not may_manage_schedules(actor):
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, roles__role=Role.ENGINEER)
        .select_related("organisation")
        .distinct()
        .order_by("username")
    )


def duration_defaults() -> QuerySet[DurationDefault]:
    return DurationDefault.objects.select_related("product_model").order_by("service_type", "product_model__code")


def feed_by_token(token: str) -> CalendarFeed:
    return get_object_or_404(CalendarFeed.objects.select_related("user"), token=token, user__is_active=True)
