"""Work order states and the moves between them.

`transition` is the only function that writes `WorkOrder.status`. Callers (these verbs, the
dispatch and field services) check who may act; `transition` checks that the move is allowed
from the current state, makes it with a compare-and-set, and writes the service log.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.db import any_of
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.outbox import emit_many
from fieldservice.workorders import hooks
from fieldservice.workorders.choices import (
    TRANSITIONS,
    HoldReason,
    Transition,
    WorkOrderStatus,
)
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.permissions import may_manage_orders, may_work_on
from fieldservice.workorders.services.log import log_events


def allowed_transitions(order: WorkOrder) -> list[str]:
    return [verb for verb, (sources, _target) in TRANSITIONS.items() if order.status in sources]


@dataclass(frozen=True)
class Step:
    """One order of a batch move, and what its service-log line says."""

    order_id: int
    note: str = ""
    payload: dict | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@transaction.atomic
def transition(
    order: WorkOrder,
    verb: str,
    *,
    actor: User | None,
    note: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    payload: dict | None = None,
    **fields,
) -> WorkOrder:
    """Move `order` by `verb`, setting `fields` in the same write. Raises DomainError
    ("illegal_transition") when the current state does not allow it, or ("conflict") when
    someone else moved the order first; in both cases nothing changes. The batch path with one
    order, after the check that tells a person why the move is not allowed."""
    sources, _target = TRANSITIONS[Transition(verb)]
    current = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if current.status not in sources:
        raise DomainError(
            "illegal_transition",
            _("Work order %(number)s is %(status)s and cannot be moved by “%(verb)s”.")
            % {"number": current.number, "status": current.get_status_display(), "verb": Transition(verb).label},
        )
    step = Step(order_id=current.pk, note=note, payload=payload, latitude=latitude, longitude=longitude)
    _move(
        [_Locked(current.pk, current.status, current.status_before_hold, step, current)],
        verb,
        actor=actor,
        fields=fields,
    )
    order.refresh_from_db()
    return order


@transaction.atomic
def transition_many(verb: str, steps: Sequence[Step], *, actor: User | None, **fields) -> list[hooks.Move]:
    """Move many orders by `verb` at once: the same table, service-log lines, hooks and outbox
    messages as `transition`, written with a few set-based statements whatever the number of
    orders (a rule pass dispatches thousands). An order no longer in a state the verb starts
    from (a dispatcher was quicker) is left out, not an error. Returns the moves made."""
    sources, _target = TRANSITIONS[Transition(verb)]
    by_id = {step.order_id: step for step in steps}
    if not by_id:
        return []
    # Values, not model instances: building ten thousand instances costs more than the query.
    rows = (
        WorkOrder.objects.select_for_update(of=("self",))
        .filter(pk__in=any_of(by_id), status__in=sources)
        .order_by("pk")
        .values_list("pk", "status", "status_before_hold")
    )
    locked = [_Locked(pk, status, before_hold, by_id[pk]) for pk, status, before_hold in rows]
    return _move(locked, verb, actor=actor, fields=fields)


class _Locked(NamedTuple):
    """An order locked in a state the verb starts from, and its step."""

    pk: int
    status: str
    status_before_hold: str
    step: Step
    order: WorkOrder | None = None  # the instance, when the caller has it (a move of one)


def _move(locked: list[_Locked], verb: str, *, actor: User | None, fields: dict) -> list[hooks.Move]:
    """Write the moves of orders locked in a state `verb` starts from: the status (one UPDATE
    per target state), the service log, the hooks (SLA clocks, assignments) and the messages."""
    if not locked:
        return []
    _sources, fixed_target = TRANSITIONS[Transition(verb)]
    now = timezone.now()
    fields = dict(fields)
    if verb == Transition.RESUME:
        fields.update(status_before_hold="", hold_reason="")
    elif verb == Transition.HOLD:
        fields["status_before_hold"] = F("status")  # the value before this UPDATE
    elif verb == Transition.CHECK_IN:
        fields.setdefault("checked_in_at", now)
    elif verb == Transition.COMPLETE:
        fields.setdefault("completed_at", now)
        fields.setdefault("checked_out_at", now)
    elif verb == Transition.CLOSE:
        fields.setdefault("closed_at", now)
    moves = []
    by_target: dict[str, list[_Locked]] = {}
    hold_reason = fields.get("hold_reason", "")
    for row in locked:
        target = (row.status_before_hold or WorkOrderStatus.NEW) if verb == Transition.RESUME else fixed_target
        by_target.setdefault(target, []).append(row)
        moves.append(
            hooks.Move(
                order_id=row.pk,
                verb=verb,
                source=row.status,
                target=target,
                actor=actor,
                note=row.step.note,
                at=now,
                hold_reason=hold_reason,
                loaded=row.order,
            )
        )
    for target, rows in by_target.items():
        ids = [row.pk for row in rows]
        changed = WorkOrder.objects.filter(pk__in=any_of(ids), status__in={row.status for row in rows}).update(
            status=target, updated_at=now, **fields
        )
        if changed != len(ids):  # pragma: no cover - the row locks make this unreachable on PostgreSQL
            raise DomainError("conflict", _("The work order was changed by someone else; reload and try again."))
    log_events(
        [
            {
                "work_order_id": row.pk,
                "action": verb,
                "from_status": move.source,
                "to_status": move.target,
                "actor": actor,
                "note": move.note,
                "latitude": row.step.latitude,
                "longitude": row.step.longitude,
                "payload": row.step.payload,
            }
            for row, move in zip(locked, moves, strict=True)
        ],
        at=now,
    )
    hooks.moved(moves)
    emit_many(
        [
            (
                "work_order.transitioned",
                {
                    "work_order": move.order_id,
                    "verb": str(verb),
                    "from": move.source,
                    "to": move.target,
                    "actor": actor.pk if actor else None,
                    "note": move.note[:500],
                },
                None,
            )
            for move in moves
        ]
    )
    return moves


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise field_error(field, _("Give a reason."), "required")
    return reason[:1000]


@transaction.atomic
def cancel_work_order(order: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    require(may_manage_orders(actor))
    reason = _require_reason(reason)
    # The assignments end in the dispatch app's hook (workorders.hooks).
    return transition(order, Transition.CANCEL, actor=actor, note=reason)


@transaction.atomic
def put_on_hold(order: WorkOrder, *, actor: User, hold_reason: str, note: str = "") -> WorkOrder:
    """Waiting for parts or for the customer. The assigned engineer or a desk user may do it."""
    require(may_work_on(actor, order))
    if hold_reason not in HoldReason.values:
        raise field_error("hold_reason", _("Choose why the order waits."), "invalid_choice")
    if hold_reason == HoldReason.OTHER:
        note = _require_reason(note, "note")
    return transition(
        order,
        Transition.HOLD,
        actor=actor,
        note=note.strip(),
        hold_reason=hold_reason,
        payload={"hold_reason": hold_reason},
    )


@transaction.atomic
def resume_work_order(order: WorkOrder, *, actor: User, note: str = "") -> WorkOrder:
    require(may_work_on(actor, order))
    return transition(order, Transition.RESUME, actor=actor, note=(note or "").strip())


@transaction.atomic
def close_work_order(order: WorkOrder, *, actor: User, note: str = "") -> WorkOrder:
    """A desk user closes a completed order after checking the report."""
    require(may_manage_orders(actor))
    return transition(order, Transition.CLOSE, actor=actor, note=(note or "").strip())
