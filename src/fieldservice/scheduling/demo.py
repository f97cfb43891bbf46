"""Demo data of the scheduling app (called by `fsm demo` after the order history): default
durations, a few absences, and planned visits for the open dispatched/accepted orders inside
their engineers' shifts. Everything goes through the services, so the rules hold."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.assets.models import ProductModel
from fieldservice.core.errors import DomainError
from fieldservice.scheduling import services
from fieldservice.scheduling.choices import AbsenceKind
from fieldservice.scheduling.selectors import planned_visit, visits_overlapping, working_periods
from fieldservice.workorders.choices import ServiceType, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder

DURATIONS = {
    ServiceType.REPAIR: 120,
    ServiceType.MAINTENANCE: 90,
    ServiceType.INSTALLATION: 240,
    ServiceType.INSPECTION: 60,
    ServiceType.CONSULTATION: 45,
}
PLAN_DAYS = 5
STEP = dt.timedelta(minutes=30)


def _scheduler() -> User | None:
    return (
        User.objects.filter(username="dispatcher").first()
        or User.objects.filter(roles__role=Role.ADMINISTRATOR).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )


def _round_up(moment: dt.datetime) -> dt.datetime:
    """The first half hour at or after `moment`: 10:30:09 is 11:00, so no visit starts in the past."""
    floor = moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)
    return floor if floor == moment else floor + STEP


def _durations(actor, rng) -> int:
    for service_type, minutes in DURATIONS.items():
        services.set_duration_default(actor=actor, service_type=service_type, minutes=minutes)
    models = list(ProductModel.objects.order_by("code")[:20])
    chosen = rng.sample(models, min(2, len(models)))
    for model, (service_type, minutes) in zip(
        chosen, [(ServiceType.INSTALLATION, 360), (ServiceType.MAINTENANCE, 150)], strict=False
    ):
        services.set_duration_default(actor=actor, service_type=service_type, product_model=model, minutes=minutes)
    return len(DURATIONS) + len(chosen)


def _absences(actor, rng, today: dt.date) -> int:
    engineers = list(
        User.objects.filter(is_active=True, roles__role=Role.ENGINEER, organisation__kind="own")
        .distinct()
        .order_by("username")
    )
    if not engineers:
        return 0
    made = 0
    local = timezone.make_aware
    picks = rng.sample(engineers, min(3, len(engineers)))
    plans = [
        (AbsenceKind.LEAVE, dt.timedelta(days=3), dt.time(0, 0), dt.timedelta(days=2), "年假"),
        (AbsenceKind.TRAINING, dt.timedelta(days=1), dt.time(13, 0), dt.timedelta(hours=4, minutes=30), "安全培训"),
        (AbsenceKind.BREAK, dt.timedelta(days=0), dt.time(15, 0), dt.timedelta(hours=1), "车辆年检"),
    ]
    for engineer, (kind, offset, time, length, note) in zip(picks, plans, strict=False):
        start = local(dt.datetime.combine(today + offset, time))
        services.create_absence(
            actor=actor, engineer=engineer, kind=kind, starts_at=start, ends_at=start + length, note=note
        )
        made += 1
    return made


def _first_free_slot(order: WorkOrder, engineer: User, minutes: int, now: dt.datetime) -> dt.datetime | None:
    """The first half-hour start from now on where the visit fits his working time and no other visit."""
    length = dt.timedelta(minutes=minutes)
    today = timezone.localtime(now).date()
    for offset in range(PLAN_DAYS):
        for period_start, period_end in working_periods(engineer, today + dt.timedelta(days=offset)):
            start = _round_up(max(period_start, now))
            while start + length <= period_end:
                if not [v for v in visits_overlapping(engineer, start, start + length) if v.work_order_id != order.pk]:
                    return start
                start += STEP
    return None


def _visits(actor, now: dt.datetime) -> int:
    orders = WorkOrder.objects.filter(status__in=[WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED]).order_by(
        "created_at", "pk"
    )
    planned = 0
    for order in orders:
        engineer = services.lead_engineer(order)
        if engineer is None or planned_visit(order) is not None:
            continue
        minutes = services.default_duration_minutes(order)
        start = _first_free_slot(order, engineer, minutes, now)
        if start is None:
            continue
        window_start = start - dt.timedelta(hours=1)
        try:
            services.schedule_visit(
                order,
                actor=actor,
                planned_start=start,
                duration_minutes=minutes,
                window_start=window_start,
                window_end=window_start + dt.timedelta(hours=3),
            )
        except (ValidationError, DomainError):
            # A slot the rules refuse (e.g. the engineer lacks the skill): left for the dispatcher.
            continue
        planned += 1
    return planned


def seed(*, rng, now) -> dict:
    actor = _scheduler()
    if actor is None:
        return {}
    today = timezone.localtime(now).date()
    return {
        "default durations": _durations(actor, rng),
        "absences": _absences(actor, rng, today),
        "visits": _visits(actor, now),
    }
