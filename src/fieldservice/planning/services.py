"""Optimisation runs: start one (the worker plans), cancel or discard it, apply its proposal in one step.

A proposal is applied only if nothing it was computed from has changed since: every order's
`updated_at`/status and every visit's version are re-read under lock and compared with the run's
snapshot, and a visit planned since for one of the run's engineers that day counts as a change too; any
difference refuses the whole apply (DomainError "stale") and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import ServiceArea, ServiceTeam, User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.validation import check_date
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.planning import inputs
from fieldservice.planning.choices import ACTIVE_RUN_STATUSES, RunStatus
from fieldservice.planning.models import PlanningRun
from fieldservice.planning.optimiser import default_source, solve
from fieldservice.planning.permissions import may_plan
from fieldservice.planning.proposal import build_proposal
from fieldservice.scheduling import services as scheduling
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Visit
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder

logger = logging.getLogger(__name__)

MIN_BUDGET, MAX_BUDGET = 1, 120
PROGRESS_EVERY = 0.5  # seconds between two progress writes (and two looks at cancel_requested)


def _resolve(model, value, organisation_id=None):
    if value is None or value == "":
        return None
    pk = value.pk if isinstance(value, model) else value
    rows = model.objects.all()
    if organisation_id is not None:
        rows = rows.filter(organisation_id=organisation_id)
    try:
        return rows.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        return False


def start_run(
    *,
    actor: User,
    day: dt.date,
    team: ServiceTeam | int | None = None,
    area: ServiceArea | int | None = None,
    time_budget_seconds: int = 10,
) -> PlanningRun:
    """Queue the optimisation of a team's or an area's day; the worker fills in the proposal."""
    require(may_plan(actor))
    if (team is None or team == "") == (area is None or area == ""):
        raise field_error("team", _("Choose a team or a service area (one of the two)."), "required")
    if not isinstance(day, dt.date):
        raise field_error("day", _("Give the day to plan."), "required")
    check_date(day, field="day")
    if isinstance(time_budget_seconds, bool) or not isinstance(time_budget_seconds, int):
        raise field_error("time_budget_seconds", _("The time budget must be a whole number of seconds."))
    if not MIN_BUDGET <= time_budget_seconds <= MAX_BUDGET:
        raise field_error(
            "time_budget_seconds",
            _("The time budget must be between %(min)s and %(max)s seconds.") % {"min": MIN_BUDGET, "max": MAX_BUDGET},
            "out_of_range",
        )
    team_obj = _resolve(ServiceTeam, team, actor.organisation_id)
    area_obj = _resolve(ServiceArea, area)
    if team_obj is False:
        raise field_error("team", _("Choose one of your teams."), "invalid_choice")
    if area_obj is False:
        raise field_error("area", _("Choose a service area."), "invalid_choice")
    field = "team" if team_obj is not None else "area"
    engineers = inputs.scope_engineers(organisation_id=actor.organisation_id, team=team_obj, area=area_obj)
    if not engineers:
        message = (
            _("The team has no engineer available to plan.")
            if team_obj is not None
            else _("No engineer of ours covers this area.")
        )
        raise field_error(field, message, "empty")
    if not any(inputs.working_periods(engineer, day) for engineer in engineers):
        raise field_error("day", _("None of these engineers works on that day."), "nobody_works")
    with transaction.atomic():
        run = PlanningRun.objects.create(
            team=team_obj, area=area_obj, day=day, time_budget_seconds=time_budget_seconds, requested_by=actor
        )
        transaction.on_commit(lambda: enqueue(run.pk))
    return run


def enqueue(run_id: int) -> None:
    from fieldservice.planning.tasks import optimise

    try:
        optimise.enqueue(run_id)
    except Exception:  # the run stays queued; the page offers to cancel it
        logger.exception("Could not enqueue optimisation run %s", run_id)


def cancel_run(run: PlanningRun, *, actor: User) -> PlanningRun:
    """Ask the worker to stop (a queued run stops at once); the best plan so far is not kept."""
    require(may_plan(actor))
    with transaction.atomic():
        current = PlanningRun.objects.select_for_update().get(pk=run.pk)
        if current.status not in ACTIVE_RUN_STATUSES:
            raise DomainError("not_running", _("This optimisation is no longer running."))
        fields = {"cancel_requested": True}
        if current.status == RunStatus.QUEUED:
            fields.update(status=RunStatus.CANCELLED, finished_at=timezone.now())
        PlanningRun.objects.filter(pk=run.pk).update(**fields)
    run.refresh_from_db()
    return run


def discard_run(run: PlanningRun, *, actor: User) -> PlanningRun:
    require(may_plan(actor))
    changed = PlanningRun.objects.filter(pk=run.pk, status=RunStatus.DONE).update(status=RunStatus.DISCARDED)
    if changed != 1:
        raise DomainError("not_done", _("Only a finished proposal can be discarded."))
    run.refresh_from_db()
    return run


# --- the worker's part -------------------------------------------------------------------------------


def execute_run(run_id: int) -> str:
    """Plan the run's day (called by the task). Never raises for a bad input: the run fails with the reason."""
    claimed = PlanningRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, cancel_requested=False).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=0
    )
    if claimed != 1:
        return "skipped"
    run = PlanningRun.objects.select_related("team", "area", "requested_by").get(pk=run_id)
    try:
        organisation_id = run.requested_by.organisation_id if run.requested_by else None
        if run.team is not None:
            organisation_id = run.team.organisation_id
        built = inputs.build(day=run.day, organisation_id=organisation_id, team=run.team, area=run.area)
        if not built.problem.resources:
            raise DomainError("planning_no_engineers", _("None of these engineers works on that day."))
        state = {"next_write": 0.0, "next_look": 0.0, "stop": False}

        def progress(report) -> None:
            now = time.monotonic()
            if now >= state["next_write"]:
                state["next_write"] = now + PROGRESS_EVERY
                PlanningRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                    progress=min(99, int(report.fraction * 100))
                )

        def should_stop() -> bool:
            now = time.monotonic()
            if now >= state["next_look"]:
                state["next_look"] = now + PROGRESS_EVERY
                state["stop"] = PlanningRun.objects.filter(pk=run_id, cancel_requested=True).exists()
            return state["stop"]

        source = default_source()  # one travel model for the plan and for both figures compared
        plan = solve(
            built.problem,
            travel=source,
            time_limit=run.time_budget_seconds,
            progress=progress,
            should_stop=should_stop,
            progress_interval=PROGRESS_EVERY,
        )
        if plan.cancelled:
            PlanningRun.objects.filter(pk=run_id).update(status=RunStatus.CANCELLED, finished_at=timezone.now())
            return "cancelled"
        proposal = build_proposal(built, plan, source)
    except DomainError as error:
        _fail(run_id, error.message)
        return "failed"
    except Exception as error:  # a bug or OSRM without fallback: the run says so instead of hanging
        logger.exception("Optimisation run %s failed", run_id)
        _fail(run_id, str(error) or error.__class__.__name__)
        return "failed"
    PlanningRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE,
        progress=100,
        proposal=proposal,
        snapshot=built.snapshot,
        finished_at=timezone.now(),
    )
    return "done"


def _fail(run_id: int, message: str) -> None:
    PlanningRun.objects.filter(pk=run_id).update(
        status=RunStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


# --- applying a proposal -----------------------------------------------------------------------------


def _stale_orders(run: PlanningRun) -> list[str]:
    snapshot = run.snapshot or {}
    orders = snapshot.get("orders", {})
    visits = snapshot.get("visits", {})
    ids = [int(pk) for pk in orders]
    locked = {o.pk: o for o in WorkOrder.objects.select_for_update().filter(pk__in=ids)}
    current_visits = {
        v.work_order_id: v
        for v in Visit.objects.select_for_update().filter(work_order_id__in=ids, status=VisitStatus.PLANNED)
    }
    changed = []
    for pk in ids:
        order = locked.get(pk)
        seen = orders[str(pk)]
        visit = current_visits.get(pk)
        then = visits.get(str(pk))
        same_visit = (visit is None and then is None) or (
            visit is not None and then is not None and [visit.pk, visit.version] == list(then)
        )
        if (
            order is None
            or order.updated_at.isoformat() != seen["updated_at"]
            or order.status != seen["status"]
            or not same_visit
        ):
            changed.append(order.number if order is not None else f"#{pk}")
    # A visit planned since for one of the run's engineers that day would clash with the proposal.
    day_start = dt.datetime.fromisoformat(run.proposal["day_start"])
    added = (
        Visit.objects.filter(
            status=VisitStatus.PLANNED,
            engineer_id__in=[e["id"] for e in run.proposal.get("engineers", [])],
            planned_start__gte=day_start,
            planned_start__lt=day_start + dt.timedelta(days=1),
        )
        .exclude(work_order_id__in=ids)
        .select_related("work_order")
    )
    changed.extend(visit.work_order.number for visit in added)
    return changed


@transaction.atomic
def apply_run(run: PlanningRun, *, actor: User) -> PlanningRun:
    """Write the proposal: each moved order gets its visit (created or moved, version + 1) and its lead
    engineer (dispatched, or reassigned when the engineer changes); an order left out keeps its visit,
    unless the proposal says it clashes with the new day, when the visit is taken off the calendar.
    Pinned visits and work under way are never touched. Refused whole when any order or visit changed
    since the run read them, or when the board's conflict check finds a conflict in the result."""
    require(may_plan(actor))
    current = PlanningRun.objects.select_for_update().get(pk=run.pk)
    if current.status != RunStatus.DONE:
        raise DomainError("not_done", _("Only a finished proposal can be applied."))
    changed = _stale_orders(current)
    if changed:
        raise DomainError(
            "stale",
            _("These orders changed after the optimisation read them: %(numbers)s. Run it again.")
            % {"numbers": ", ".join(changed)},
        )
    day_start = dt.datetime.fromisoformat(current.proposal["day_start"])
    engineers = {f"e{u.pk}": u for u in User.objects.filter(pk__in=[e["id"] for e in current.proposal["engineers"]])}
    note = _("Day-plan optimisation")
    # First clear the visits of left-out orders that the page said would go, then write the moves.
    for left_out in current.proposal.get("unplannable", []):
        if (left_out.get("visit") or {}).get("action") != "unscheduled":
            continue
        order = WorkOrder.objects.select_for_update().get(pk=left_out["order_id"])
        if order.visits.filter(status=VisitStatus.PLANNED, is_pinned=True).exists():
            raise DomainError("stale", _("A visit was pinned after the optimisation read it. Run it again."))
        reason = _("%(note)s: not planned, and its visit clashed with the new day") % {"note": note}
        scheduling.unschedule_planned_visit(order, actor=actor, reason=reason, planning_run=current.pk)
    written = []
    for move in current.proposal.get("moves", []):
        order = WorkOrder.objects.select_for_update().get(pk=move["order_id"])
        engineer = engineers[move["to_engineer_key"]]
        planned_start = day_start + dt.timedelta(seconds=move["to_start"])
        lead = order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).first()
        if lead is None and order.status in (WorkOrderStatus.NEW, WorkOrderStatus.REJECTED):
            dispatch.dispatch_to_engineer(order, actor=actor, engineer=engineer, note=note)
        elif lead is None or lead.engineer_id != engineer.pk:
            dispatch.reassign(order, actor=actor, engineer=engineer, reason=note)
        pinned = order.visits.filter(status=VisitStatus.PLANNED, is_pinned=True).exists()
        if pinned:  # the snapshot guarantees it was not pinned when planned
            raise DomainError("stale", _("A visit was pinned after the optimisation read it. Run it again."))
        written.append(
            scheduling.place_planned_visit(
                order,
                actor=actor,
                engineer=engineer,
                planned_start=planned_start,
                duration_minutes=move["duration_minutes"],
                reason=note,
                planning_run=current.pk,
            )
        )
    # The board's own check, on the day as it now stands: every visit the plan wrote must be free of
    # overlaps (with each other, with the visits kept) and of the other blocking conflicts a drag would
    # meet. Any one refuses the whole plan; the transaction rolls back every write above.
    problems = scheduling.blocking_conflicts(written)
    if problems:
        raise DomainError(
            "overlap",
            _("Applying would leave these conflicts, so nothing was changed: %(problems)s. Run it again.")
            % {"problems": "; ".join(problems)},
        )
    PlanningRun.objects.filter(pk=current.pk).update(
        status=RunStatus.APPLIED, applied_by=actor, applied_at=timezone.now()
    )
    current.refresh_from_db()
    return current
