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

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.assets.models import ProductModel
from fieldservice.core import outbox
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import CREATED, DELETED, record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_date, check_length
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.scheduling.choices import AbsenceKind, VisitStatus
from fieldservice.scheduling.models import Absence, CalendarFeed, DurationDefault, Visit, new_feed_token
from fieldservice.scheduling.permissions import may_have_feed, may_manage_schedules, may_schedule
from fieldservice.scheduling.selectors import Conflict, slot_conflicts
from fieldservice.workorders.choices import FINISHED_STATUSES, ServiceType, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.log import log_event

# Used when no default duration is configured for the order's service type.
FALLBACK_DURATION_MINUTES = 90
MAX_DURATION_MINUTES = 24 * 60


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


def _raise_blocking(conflicts: list[Conflict]) -> None:
    errors: dict[str, list[ValidationError]] = {}
    for conflict in conflicts:
        if conflict.blocking:
            field = "engineer" if conflict.code in ("skill", "not_an_engineer") else "planned_start"
            errors.setdefault(field, []).append(ValidationError(conflict.message, code=conflict.code))
    if errors:
        raise ValidationError(errors)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # A time without a zone (a form field, an API client that forgot it) is local time.
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _stale(order: WorkOrder) -> DomainError:
    return DomainError(
        "stale",
        _("Visit of %(number)s was changed by someone else; reload and try again.") % {"number": order.number},
    )


def _validate_slot(planned_start, duration_minutes, window_start, window_end) -> None:
    if planned_start is None:
        raise field_error("planned_start", _("Give the planned start."), "required")
    check_date(planned_start, field="planned_start")
    check_date(window_start, field="window_start")
    check_date(window_end, field="window_end")
    if not (0 < duration_minutes <= MAX_DURATION_MINUTES):
        raise field_error("duration_minutes", _("The duration must be between 1 minute and 24 hours."), "out_of_range")
    if (window_start is None) != (window_end is None):
        field = "window_end" if window_end is None else "window_start"
        raise field_error(field, _("Give both ends of the time window, or neither."), "required")
    if window_start is not None and window_end <= window_start:
        raise field_error("window_end", _("The time window must end after it starts."), "invalid")


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
    version: int | None = None,
) -> Visit:
    """Agree the visit of an open order with the customer: create its planned visit, or change it.
    The order's lead engineer may do it for his own order; otherwise dispatchers. With `version`
    (what the caller's form showed), a visit changed since is refused as stale."""
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    engineer = lead_engineer(order)
    require(may_schedule(actor) or (engineer is not None and engineer.pk == actor.pk))
    if order.status in FINISHED_STATUSES:
        raise DomainError("finished", _("Work order %(number)s is finished.") % {"number": order.number})
    if duration_minutes is None:
        duration_minutes = default_duration_minutes(order)
    planned_start, window_start, window_end = (_aware(value) for value in (planned_start, window_start, window_end))
    _validate_slot(planned_start, duration_minutes, window_start, window_end)
    visit = order.visits.select_for_update().filter(status=VisitStatus.PLANNED).first()
    if version is not None and (visit.version if visit is not None else 0) != version:
        raise _stale(order)
    if engineer is not None:
        _raise_blocking(
            slot_conflicts(
                order,
                engineer=engineer,
                start=planned_start,
                duration_minutes=duration_minutes,
                ignore_visit=visit,
                window_start=window_start,
                window_end=window_end,
            )
        )
    fields = {
        "engineer": engineer,
        "planned_start": planned_start,
        "duration_minutes": duration_minutes,
        "window_start": window_start,
        "window_end": window_end,
        "is_pinned": is_pinned,
        "note": check_length(note, model=Visit, field="note"),
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
    # The order first, then the visit: the same lock order as schedule_visit and the dispatch
    # services, so a drag and a panel save on the same order cannot deadlock.
    order = WorkOrder.objects.select_for_update().get(pk=visit.work_order_id)
    current = Visit.objects.select_for_update().get(pk=visit.pk)
    if current.status != VisitStatus.PLANNED:
        raise DomainError("not_planned", _("This visit is no longer planned."))
    if current.version != version:
        raise _stale(order)
    if order.status in FINISHED_STATUSES:
        raise DomainError("finished", _("Work order %(number)s is finished.") % {"number": order.number})
    if engineer is None:
        raise field_error("engineer", _("Choose the engineer."), "required")
    duration = current.duration_minutes if duration_minutes is None else duration_minutes
    planned_start = _aware(planned_start)
    _validate_slot(planned_start, duration, current.window_start, current.window_end)
    _raise_blocking(
        slot_conflicts(order, engineer=engineer, start=planned_start, duration_minutes=duration, ignore_visit=current)
    )
    # Compare with the order's lead, not the visit's engineer: the visit may lag behind the
    # order (its engineer is cleared when the lead is revoked), and re-dispatching the order to
    # the engineer who already leads it would throw away his acceptance.
    lead = lead_engineer(order)
    if lead is None or lead.pk != engineer.pk:
        note = (reason or "").strip() or _("Moved on the dispatch board")
        if not order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).exists():
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


def place_planned_visit(
    order: WorkOrder,
    *,
    actor: User,
    engineer: User,
    planned_start: dt.datetime,
    duration_minutes: int,
    reason: str,
    **payload,
) -> Visit:
    """Create or move the order's planned visit as part of a whole plan applied at once (an
    optimisation proposal). Checked one by one here, the first moves would clash with visits the
    later moves are about to clear; so the caller checks the whole result once every visit is
    written (`blocking_conflicts`) and rolls back on any conflict. The caller holds the order's
    lock and has already refused stale or pinned visits."""
    visit = order.visits.select_for_update().filter(status=VisitStatus.PLANNED).first()
    if visit is None:
        visit = Visit.objects.create(
            work_order=order,
            engineer=engineer,
            planned_start=planned_start,
            duration_minutes=duration_minutes,
            created_by=actor,
        )
        action = "visit_scheduled"
    else:
        Visit.objects.filter(pk=visit.pk).update(
            engineer=engineer, planned_start=planned_start, version=F("version") + 1, updated_at=timezone.now()
        )
        visit.refresh_from_db()
        action = "visit_rescheduled"
    _record(visit, actor=actor, action=action, reason=reason, **payload)
    return visit


def unschedule_planned_visit(order: WorkOrder, *, actor: User, reason: str, **payload) -> Visit | None:
    """Take the order's planned visit off the calendar as part of a whole plan applied at once (an order
    the plan leaves out whose visit clashes with the new day). The order keeps its engineer and waits
    for a new date. The caller holds the order's lock and has already refused a stale or pinned visit."""
    visit = order.visits.select_for_update().filter(status=VisitStatus.PLANNED).first()
    if visit is None:
        return None
    Visit.objects.filter(pk=visit.pk).update(
        status=VisitStatus.CANCELLED, version=F("version") + 1, updated_at=timezone.now()
    )
    visit.refresh_from_db()
    _record(visit, actor=actor, action="visit_unscheduled", reason=reason, **payload)
    return visit


def blocking_conflicts(visits: list[Visit]) -> list[str]:
    """The board's conflict check run on visits where they now stand (after a whole plan was written):
    the message of every blocking conflict, each naming its order."""
    found = []
    for visit in visits:
        if visit.engineer is None:
            continue
        for conflict in slot_conflicts(
            visit.work_order,
            engineer=visit.engineer,
            start=visit.planned_start,
            duration_minutes=visit.duration_minutes,
            ignore_visit=visit,
        ):
            if conflict.blocking:
                found.append(f"{visit.work_order.number}: {conflict.message}")
    return found


def _record(visit: Visit, *, actor: User | None, action: str, reason: str = "", **payload) -> None:
    start = timezone.localtime(visit.planned_start)
    note = f"{start:%Y-%m-%d %H:%M} · {visit.engineer or '-'}"
    log_event(
        visit.work_order,
        actor=actor,
        action=action,
        note=f"{note} · {reason}" if reason else note,
        payload={
            "visit": visit.pk,
            "engineer": visit.engineer_id,
            "planned_start": visit.planned_start.isoformat(),
            **payload,
        },
    )
    outbox.emit(
        "visit.changed",
        {"visit": visit.pk, "work_order": visit.work_order_id, "engineer": visit.engineer_id},
    )


# Absences -------------------------------------------------------------------------------------------

ABSENCE_FIELDS = ("engineer", "kind", "starts_at", "ends_at", "note")
MAX_ABSENCE_DAYS = 366


def _check_absence(engineer, kind, starts_at, ends_at) -> None:
    errors: dict[str, list[ValidationError]] = {}
    if engineer is None or not engineer.is_active or not engineer.has_role(Role.ENGINEER):
        errors["engineer"] = [ValidationError(_("Choose an active engineer."), code="not_an_engineer")]
    if kind not in AbsenceKind.values:
        errors["kind"] = [ValidationError(_("Choose the kind of absence."), code="invalid_choice")]
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            check_date(value, field=name)
        except ValidationError as error:
            errors.update(error.error_dict)
    if starts_at is None:
        errors["starts_at"] = [ValidationError(_("Give the start."), code="required")]
    if ends_at is None:
        errors["ends_at"] = [ValidationError(_("Give the end."), code="required")]
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [ValidationError(_("The absence must end after it starts."), code="end_before_start")]
    elif starts_at is not None and ends_at - starts_at > dt.timedelta(days=MAX_ABSENCE_DAYS):
        errors["ends_at"] = [ValidationError(_("An absence can last at most a year."), code="too_long")]
    if errors:
        raise ValidationError(errors)


def _absence_changed(absence: Absence, action: str) -> None:
    outbox.emit(
        "absence.changed",
        {
            "absence": absence.pk,
            "engineer": absence.engineer_id,
            "action": action,
            "starts_at": absence.starts_at.isoformat(),
            "ends_at": absence.ends_at.isoformat(),
        },
    )


@transaction.atomic
def create_absence(
    *,
    actor: User,
    engineer: User,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    note: str = "",
) -> Absence:
    """Take time out of an engineer's shift. Visits planned in that time stay where they are;
    `visits_overlapping` lists them, so the page can warn and a dispatcher can move them."""
    require(may_manage_schedules(actor))
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    _check_absence(engineer, kind, starts_at, ends_at)
    absence = Absence.objects.create(
        engineer=engineer,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=check_length(note, model=Absence, field="note"),
        created_by=actor,
    )
    record_created(absence, actor=actor, fields=ABSENCE_FIELDS, related=engineer)
    _absence_changed(absence, "created")
    return absence


@transaction.atomic
def update_absence(
    absence: Absence,
    *,
    actor: User,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    note: str = "",
) -> Absence:
    require(may_manage_schedules(actor))
    current = Absence.objects.select_for_update().get(pk=absence.pk)
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    _check_absence(current.engineer, kind, starts_at, ends_at)
    before = snapshot(current, ABSENCE_FIELDS)
    current.kind, current.starts_at, current.ends_at = kind, starts_at, ends_at
    current.note = check_length(note, model=Absence, field="note")
    current.save(update_fields=["kind", "starts_at", "ends_at", "note"])
    record_updated(current, actor=actor, before=before, related=current.engineer)
    _absence_changed(current, "updated")
    return current


@transaction.atomic
def delete_absence(absence: Absence, *, actor: User) -> None:
    require(may_manage_schedules(actor))
    current = Absence.objects.select_for_update().filter(pk=absence.pk).first()
    if current is None:
        raise DomainError("gone", _("This absence was already deleted."))
    record_event(current, actor=actor, action=DELETED, related=current.engineer, note=str(current))
    _absence_changed(current, "deleted")
    current.delete()


# Default durations ------------------------------------------------------------------------------------


@transaction.atomic
def set_duration_default(
    *, actor: User, service_type: str, minutes: int, product_model: ProductModel | None = None
) -> DurationDefault:
    """Set the minutes for a service type (on one product model, or any); replaces what was there."""
    require(may_manage_schedules(actor))
    errors: dict[str, list[ValidationError]] = {}
    if service_type not in ServiceType.values:
        errors["service_type"] = [ValidationError(_("Choose a service type."), code="invalid_choice")]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_DURATION_MINUTES:
        errors["minutes"] = [
            ValidationError(_("The duration must be between 1 minute and 24 hours."), code="out_of_range")
        ]
    if errors:
        raise ValidationError(errors)
    default = (
        # No ordering: the default one joins the (nullable) product model, which PostgreSQL
        # cannot lock FOR UPDATE.
        DurationDefault.objects.select_for_update(of=("self",))
        .filter(service_type=service_type, product_model=product_model)
        .order_by("pk")
        .first()
    )
    if default is None:
        default = DurationDefault.objects.create(
            service_type=service_type, product_model=product_model, minutes=minutes
        )
        record_created(default, actor=actor, fields=("service_type", "product_model", "minutes"))
    else:
        before = snapshot(default, ["minutes"])
        default.minutes = minutes
        default.save(update_fields=["minutes"])
        record_updated(default, actor=actor, before=before)
    return default


@transaction.atomic
def delete_duration_default(default: DurationDefault, *, actor: User) -> None:
    require(may_manage_schedules(actor))
    record_event(default, actor=actor, action=DELETED, note=str(default))
    DurationDefault.objects.filter(pk=default.pk).delete()


# Calendar feeds ---------------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_of(user: User, *, actor: User) -> CalendarFeed:
    """The engineer's private feed, made the first time he asks for it."""
    require(actor.pk == user.pk and may_have_feed(user))
    feed, created = CalendarFeed.objects.get_or_create(user=user)
    if created:
        record_event(feed, actor=actor, action=CREATED, related=user)
    return feed


@transaction.atomic
def rotate_calendar_feed(user: User, *, actor: User) -> CalendarFeed:
    """A new private address; the old one stops working at once (404)."""
    require(actor.pk == user.pk and may_have_feed(user))
    feed, _created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    CalendarFeed.objects.filter(pk=feed.pk).update(token=new_feed_token(), last_fetched_at=None)
    feed.refresh_from_db()
    record_event(feed, actor=actor, action="secret_rotated", related=user)
    return feed


def mark_feed_fetched(feed: CalendarFeed, *, now: dt.datetime | None = None) -> None:
    # A plain UPDATE: a calendar app polling every few minutes must not contend for a lock.
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now or timezone.now())


# Keeping visits in step with their order -------------------------------------------------------------


@transaction.atomic
def sync_visit_with_order(order_pk: int) -> Visit | None:
    """Make the order's planned visit match the order as it is now: done when the order is
    completed or closed, cancelled when it is cancelled, else its engineer is the current lead
    (None while the order waits in the queue). Reads the current state rather than a message's
    payload, so running it twice, or for messages out of order, ends the same."""
    order = WorkOrder.objects.select_for_update().filter(pk=order_pk).first()
    if order is None:
        return None
    visit = order.visits.select_for_update().filter(status=VisitStatus.PLANNED).first()
    if visit is None:
        return None
    changes: dict = {}
    if order.status in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED):
        changes["status"] = VisitStatus.DONE
    elif order.status == WorkOrderStatus.CANCELLED:
        changes["status"] = VisitStatus.CANCELLED
    else:
        lead = lead_engineer(order)
        lead_pk = lead.pk if lead is not None else None
        if visit.engineer_id != lead_pk:
            changes["engineer"] = lead
    if not changes:
        return visit
    Visit.objects.filter(pk=visit.pk).update(version=F("version") + 1, updated_at=timezone.now(), **changes)
    visit.refresh_from_db()
    outbox.emit(
        "visit.changed",
        {"visit": visit.pk, "work_order": order.pk, "engineer": visit.engineer_id, "status": visit.status},
    )
    return visit
