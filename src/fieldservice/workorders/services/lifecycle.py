"""Work order states and the moves between them.

`transition` is the only function that writes `WorkOrder.status`. Callers (these verbs, the
dispatch and field services) check who may act; `transition` checks that the move is allowed
from the current state, makes it with a compare-and-set, and writes the service log.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.outbox import emit
from fieldservice.workorders import hooks
from fieldservice.workorders.choices import (
    TRANSITIONS,
    HoldReason,
    Transition,
    WorkOrderStatus,
)
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.log import log_event


def allowed_transitions(order: WorkOrder) -> list[str]:
    return [verb for verb, (sources, _target) in TRANSITIONS.items() if order.status in sources]


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
    someone else moved the order first; in both cases nothing changes."""
    sources, target = TRANSITIONS[Transition(verb)]
    current = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if current.status not in sources:
        raise DomainError(
            "illegal_transition",
            _("Work order %(number)s is %(status)s and cannot be moved by “%(verb)s”.")
            % {"number": current.number, "status": current.get_status_display(), "verb": Transition(verb).label},
        )
    now = timezone.now()
    if verb == Transition.RESUME:
        target = current.status_before_hold or WorkOrderStatus.NEW
        fields.update(status_before_hold="", hold_reason="")
    elif verb == Transition.HOLD:
        fields["status_before_hold"] = current.status
    elif verb == Transition.CHECK_IN:
        fields.setdefault("checked_in_at", now)
    elif verb == Transition.COMPLETE:
        fields.setdefault("completed_at", now)
        fields.setdefault("checked_out_at", now)
    elif verb == Transition.CLOSE:
        fields.setdefault("closed_at", now)
    changed = WorkOrder.objects.filter(pk=current.pk, status=current.status).update(
        status=target, updated_at=now, **fields
    )
    if changed != 1:  # pragma: no cover - the row lock makes this unreachable on PostgreSQL
        raise DomainError("conflict", _("The work order was changed by someone else; reload and try again."))
    log_event(
        current,
        actor=actor,
        action=verb,
        from_status=current.status,
        to_status=target,
        note=note,
        latitude=latitude,
        longitude=longitude,
        payload=payload,
    )
    hooks.moved(
        hooks.Move(
            order=current,
            verb=verb,
            source=current.status,
            target=target,
            actor=actor,
            note=note,
            at=now,
            hold_reason=fields.get("hold_reason", ""),
        )
    )
    emit(
        "work_order.transitioned",
        {
            "work_order": current.pk,
            "verb": str(verb),
            "from": current.status,
            "to": target,
            "actor": actor.pk if actor else None,
            "note": note[:500],
        },
    )
    order.refresh_from_db()
    return order


def _require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise field_error(field, _("Give a reason."), "required")
    return reason[:1000]


def _is_assigned_engineer(actor: User, order: WorkOrder) -> bool:
    return order.assignments.filter(engineer=actor, status__in=["offered", "accepted"]).exists()


@transaction.atomic
def cancel_work_order(order: WorkOrder, *, actor: User, reason: str) -> WorkOrder:
    require(may_manage_orders(actor))
    reason = _require_reason(reason)
    # The assignments end in the dispatch app's hook (workorders.hooks).
    return transition(order, Transition.CANCEL, actor=actor, note=reason)


@transaction.atomic
def put_on_hold(order: WorkOrder, *, actor: User, hold_reason: str, note: str = "") -> WorkOrder:
    """Waiting for parts or for the customer. The assigned engineer or a desk user may do it."""
    require(may_manage_orders(actor) or _is_assigned_engineer(actor, order))
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
    require(may_manage_orders(actor) or _is_assigned_engineer(actor, order))
    return transition(order, Transition.RESUME, actor=actor, note=(note or "").strip())


@transaction.atomic
def close_work_order(order: WorkOrder, *, actor: User, note: str = "") -> WorkOrder:
    """A desk user closes a completed order after checking the report."""
    require(may_manage_orders(actor))
    return transition(order, Transition.CLOSE, actor=actor, note=(note or "").strip())
