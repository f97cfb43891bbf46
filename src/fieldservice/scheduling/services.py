"""Putting visits in the calendar and moving them.

Every change bumps `Visit.version`; a caller that read version N and writes after someone else
wrote N+1 gets DomainError("stale") and nothing changes. That is what keeps a Gantt drag made on
an old board, or an optimisation proposal computed before a change, from overwriting it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import outbox
from fieldservice.core.errors import DomainError, require
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import DurationDefault, Visit
from fieldservice.scheduling.selectors import Conflict, slot_conflicts
from fieldservice.workorders.choices import FINISHED_STATUSES
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.log import log_event

# Used when no default duration is configured for the order's service type.
FALLBACK_DURATION_MINUTES = 90
MAX_DURATION_MINUTES = 24 * 60


def may_schedule(actor: User) -> bool:
    return actor.is_own_staff and (can(actor, Capability.DISPATCH) or can(actor, Capability.MANAGE_SCHEDULES))


def lead_engineer(order: WorkOrder) -> User | None:
    assignment = (
        order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .select_related("engineer")
        .first()
    )
    return assignment.engineer if assignment is not None else None


def default_duration_minutes(order: WorkOrder) -> int:
    """The configured duration for the order's service type and product model, else for the
    service type on any model, else FALLBACK_DURATION_MINUTES."""
    model_id = order.equipment.product_model_id if order.equipment_id else None
    defaults = {d.product_model_id: d.minutes for d in DurationDefault.objects.filter(service_type=order.service_type)}
    if model_id in defaults:
        return defaults[model_id]
    return defaults.get(None, FALLBACK_DURATION_MINUTES)


def _error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _raise_blocking(conflicts: list[Conflict]) -> None:
    errors: dict[str, list[ValidationError]] = {}
    for conflict in conflicts:
        if conflict.blocking:
            field = "engineer" if conflict.code in ("skill", "not_an_engineer") else "planned_start"
            errors.setdefault(field, []).append(ValidationError(conflict.message, code=conflict.code))
    if errors:
        raise ValidationError(errors)


def _validate_slot(planned_start, duration_minutes, window_start, window_end) -> None:
    if planned_start is None:
        raise _error("planned_start", _("Give the planned start."), "required")
    if not (0 < duration_minutes <= MAX_DURATION_MINUTES):
        raise _error("duration_minutes", _("The duration must be between 1 minute and 24 hours."), "out_of_range")
    if (window_start is None) != (window_end is None):
        field = "window_end" if window_end is None else "window_start"
        raise _error(field, _("Give both ends of the time window, or neither."), "required")
    if window_start is not None and window_end <= window_start:
        raise _error("window_end", _("The time window must end after it starts."), "invalid")


@transaction.atomic
def schedule_visit(
    order: WorkOrder,
    *,
    actor: User,
    planned_start: dt.datetime,
    duration_minutes: int | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
    is_pinned: bool = False,
    note: str = "",
) -> Visit:
    """Agree the visit of an open order with the customer: create its planned visit, or change it.
    The order's lead engineer may do it for his own order; otherwise dispatchers."""
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    engineer = lead_engineer(order)
    require(may_schedule(actor) or (engineer is not None and engineer.pk == actor.pk))
    if order.status in FINISHED_STATUSES:
        raise DomainError("finished", _("Work order %(number)s is finished.") % {"number": order.number})
    if duration_minutes is None:
        duration_minutes = default_duration_minutes(order)
    _validate_slot(planned_start, duration_minutes, window_start, window_end)
    visit = order.visits.select_for_update().filter(status=VisitStatus.PLANNED).first()
    if engineer is not None:
        _raise_blocking(
            slot_conflicts(
                order, engineer=engineer, start=planned_start, duration_minutes=duration_minutes, ignore_visit=visit
            )
        )
    fields = {
        "engineer": engineer,
        "planned_start": planned_start,
        "duration_minutes": duration_minutes,
        "window_start": window_start,
        "window_end": window_end,
        "is_pinned": is_pinned,
        "note": (note or "").strip()[:300],
    }
    if visit is None:
        visit = Visit.objects.create(work_order=order, created_by=actor, **fields)
        action = "visit_scheduled"
    else:
        Visit.objects.filter(pk=visit.pk).update(version=F("version") + 1, updated_at=timezone.now(), **fields)
        visit.refresh_from_db()
        action = "visit_rescheduled"
    _record(visit, actor=actor, action=action)
    return visit


@transaction.atomic
def move_visit(
    visit: Visit,
    *,
    actor: User,
    engineer: User,
    planned_start: dt.datetime,
    version: int,
    duration_minutes: int | None = None,
    reason: str = "",
) -> Visit:
    """Move a planned visit to another time and/or engineer (a drag on the board). A new engineer
    takes over the order (the old lead is revoked). Refused on any blocking conflict, and when
    the visit changed since the caller read it (`version`)."""
    require(may_schedule(actor))
    current = Visit.objects.select_for_update().select_related("work_order").get(pk=visit.pk)
    if current.status != VisitStatus.PLANNED:
        raise DomainError("not_planned", _("This visit is no longer planned."))
    if current.version != version:
        raise DomainError(
            "stale",
            _("Visit of %(number)s was changed by someone else; reload and try again.")
            % {"number": current.work_order.number},
        )
    order = current.work_order
    duration = duration_minutes or current.duration_minutes
    _validate_slot(planned_start, duration, current.window_start, current.window_end)
    _raise_blocking(
        slot_conflicts(order, engineer=engineer, start=planned_start, duration_minutes=duration, ignore_visit=current)
    )
    if current.engineer_id != engineer.pk:
        from fieldservice.dispatch import services as dispatch

        note = (reason or "").strip() or _("Moved on the dispatch board")
        if (
            lead_engineer(order) is None
            and not order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).exists()
        ):
            dispatch.dispatch_to_engineer(order, actor=actor, engineer=engineer, note=note)
        else:
            dispatch.reassign(order, actor=actor, engineer=engineer, reason=note)
    Visit.objects.filter(pk=current.pk).update(
        engineer=engineer,
        planned_start=planned_start,
        duration_minutes=duration,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    current.refresh_from_db()
    _record(current, actor=actor, action="visit_rescheduled")
    return current


def _record(visit: Visit, *, actor: User | None, action: str) -> None:
    start = timezone.localtime(visit.planned_start)
    log_event(
        visit.work_order,
        actor=actor,
        action=action,
        note=f"{start:%Y-%m-%d %H:%M} · {visit.engineer or '-'}",
        payload={"visit": visit.pk, "engineer": visit.engineer_id, "planned_start": visit.planned_start.isoformat()},
    )
    outbox.emit(
        "visit.changed",
        {"visit": visit.pk, "work_order": visit.work_order_id, "engineer": visit.engineer_id},
    )
