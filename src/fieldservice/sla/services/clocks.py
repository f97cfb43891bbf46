"""The SLA clocks of a work order, driven by its moves.

Creation starts one clock per target of the order's policy for its priority (not for a visit
planned for a day, `WorkOrder.planned_for`: it is measured against that day); dispatch, accept,
check-in and complete meet the response, acceptance, arrival and resolution clocks; waiting for the
customer pauses them and resuming moves their due time on by the business time spent waiting;
cancelling stops them. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F

from fieldservice.core.db import any_of, insert_rows
from fieldservice.sla.calendar import (
    CalendarSpec,
    add_business_time,
    business_time_between,
    load_calendars,
)
from fieldservice.sla.choices import TARGET_ORDER, TargetKind
from fieldservice.sla.models import AT_RISK_PERCENT, EscalationRule, SlaClock, SlaTarget
from fieldservice.workorders.choices import HoldReason, Transition
from fieldservice.workorders.models import WorkOrder

# The move that meets each target.
MEETS = {
    Transition.DISPATCH: TargetKind.RESPONSE,
    Transition.ACCEPT: TargetKind.ACCEPTANCE,
    Transition.CHECK_IN: TargetKind.ARRIVAL,
    Transition.COMPLETE: TargetKind.RESOLUTION,
}
TARGET_FIELDS = {
    TargetKind.RESPONSE: "response_minutes",
    TargetKind.ACCEPTANCE: "acceptance_minutes",
    TargetKind.ARRIVAL: "arrival_minutes",
    TargetKind.RESOLUTION: "resolution_minutes",
}
# Rule thresholds are compared with business time worked out from datetimes; this absorbs the
# microsecond rounding of a percentage of the target.
TOLERANCE = timedelta(milliseconds=1)


def share(minutes: int, percent: int) -> timedelta:
    return timedelta(minutes=minutes) * percent / 100


@dataclass(frozen=True)
class Rule:
    """An active escalation rule, read once per check."""

    pk: int
    name: str
    target: str
    priorities: frozenset[str]
    notify: str
    after_minutes: int | None
    percent_used: int | None

    @property
    def is_breach(self) -> bool:
        return self.percent_used == 100

    def applies(self, kind: str, priority: str) -> bool:
        return (not self.target or self.target == kind) and (not self.priorities or priority in self.priorities)

    def threshold(self, target_minutes: int) -> timedelta:
        """Business time the clock has run when the rule fires."""
        if self.after_minutes is not None:
            return timedelta(minutes=self.after_minutes)
        return share(target_minutes, self.percent_used or 0)


def active_rules() -> list[Rule]:
    return [
        Rule(
            pk=rule.pk,
            name=rule.name,
            target=rule.target,
            priorities=frozenset(rule.priorities or ()),
            notify=rule.notify,
            after_minutes=rule.after_minutes,
            percent_used=rule.percent_used,
        )
        for rule in EscalationRule.objects.filter(is_active=True).order_by("position", "pk")
    ]


def paused_time(clock: SlaClock) -> timedelta:
    return timedelta(minutes=clock.paused_business_minutes)


def time_used(spec: CalendarSpec, clock: SlaClock, now: datetime) -> timedelta:
    """Business time the clock has run by `now`, pauses left out."""
    end = min(now, clock.paused_at) if clock.paused_at else now
    return business_time_between(spec, clock.started_at, end) - paused_time(clock)


def evaluate(
    spec: CalendarSpec, clock: SlaClock, rules: Iterable[Rule], priority: str, now: datetime
) -> tuple[list[Rule], datetime | None]:
    """The rules that have fired for the clock by `now`, and when it must next be looked at: its
    first rule still to fire, or its due time while it is not breached (None: nothing left)."""
    used = time_used(spec, clock, now)
    fired, pending = [], []
    for rule in rules:
        if not rule.applies(clock.kind, priority):
            continue
        if rule.is_breach:
            # The same moment as the due time, so a breach and its rule never disagree.
            is_fired = now >= clock.due_at
        else:
            is_fired = used + TOLERANCE >= rule.threshold(clock.target_minutes)
        if is_fired:
            fired.append(rule)
        else:
            pending.append(rule.threshold(clock.target_minutes))
    moments = []
    if pending:
        moments.append(add_business_time(spec, clock.started_at, min(pending) + paused_time(clock)))
    if now < clock.due_at:
        moments.append(clock.due_at)
    return fired, (min(moments) if moments else None)


def _new_clock(order: WorkOrder, spec: CalendarSpec, kind: str, minutes: int, rules: Sequence[Rule]) -> SlaClock:
    start = order.created_at
    clock = SlaClock(
        work_order=order,
        kind=kind,
        calendar_id=spec.calendar_id,
        target_minutes=minutes,
        started_at=start,
        due_at=add_business_time(spec, start, timedelta(minutes=minutes)),
        at_risk_at=add_business_time(spec, start, share(minutes, AT_RISK_PERCENT)),
    )
    _fired, clock.next_check_at = evaluate(spec, clock, rules, order.priority, start)
    return clock


def start_clocks(order: WorkOrder) -> None:
    """Start the order's clocks from its SLA policy's targets for its priority (none without a
    policy or a target for that priority)."""
    start_clocks_many([order])


def start_clocks_many(orders: Sequence[WorkOrder]) -> None:
    """workorders' created hook (`on_created_many`): the clocks of every order one call created,
    in a few statements whatever their number. Orders created at the same moment under the same
    policy and priority get the same clock times, worked out once."""
    orders = [order for order in orders if order.sla_policy_id is not None and order.planned_for is None]
    if not orders:
        return
    targets = {
        (target.policy_id, target.priority): target
        for target in SlaTarget.objects.filter(
            policy_id__in={order.sla_policy_id for order in orders},
            priority__in={order.priority for order in orders},
        ).select_related("policy")
    }
    if not targets:
        return
    specs = load_calendars({target.policy.calendar_id for target in targets.values()})
    rules = active_rules()
    made: dict[tuple, list[SlaClock]] = {}
    rows = []
    for order in orders:
        target = targets.get((order.sla_policy_id, order.priority))
        if target is None:
            continue
        key = (target.pk, order.created_at)
        if key not in made:
            spec = specs[target.policy.calendar_id]
            minutes = {kind: getattr(target, name) for kind, name in TARGET_FIELDS.items() if getattr(target, name)}
            made[key] = [
                _new_clock(order, spec, kind, minutes[kind], rules) for kind in TARGET_ORDER if kind in minutes
            ]
        rows += [
            {
                "work_order_id": order.pk,
                "kind": clock.kind,
                "calendar_id": clock.calendar_id,
                "target_minutes": clock.target_minutes,
                "started_at": clock.started_at,
                "due_at": clock.due_at,
                "at_risk_at": clock.at_risk_at,
                "next_check_at": clock.next_check_at,
            }
            for clock in made[key]
        ]
    insert_rows(SlaClock, rows)


def _open_clocks(order: WorkOrder):
    return SlaClock.objects.filter(work_order_id=order.pk, met_at__isnull=True, stopped_at__isnull=True)


def _end_pause(spec: CalendarSpec, clock: SlaClock, at: datetime) -> None:
    """Resume a paused clock at `at`: what was left of its target when the pause began is left
    now (a clock already due when paused stays due then)."""
    if clock.paused_at < clock.due_at:
        remaining = business_time_between(spec, clock.paused_at, clock.due_at)
        clock.due_at = add_business_time(spec, at, remaining)
    spent = business_time_between(spec, clock.paused_at, at)
    clock.paused_business_minutes += spent / timedelta(minutes=1)
    clock.paused_at = None


def _meet(order_ids: Sequence[int], kind: str, at: datetime) -> None:
    """The orders' clocks of `kind` and the kinds before it are met at `at`. Set-based: a rule
    pass dispatches thousands of orders at once; only a paused clock (rare: an order on hold
    for the customer) is worked out one by one."""
    kinds = TARGET_ORDER[: TARGET_ORDER.index(kind) + 1]
    clocks = SlaClock.objects.filter(
        work_order_id__in=any_of(order_ids), kind__in=kinds, met_at__isnull=True, stopped_at__isnull=True
    )
    paused = list(clocks.filter(paused_at__isnull=False))
    if paused:
        specs = load_calendars({clock.calendar_id for clock in paused})
        for clock in paused:
            _end_pause(specs[clock.calendar_id], clock, at)
            clock.met_at = at
            clock.next_check_at = None
            if at > clock.due_at and clock.breached_at is None:
                clock.breached_at = clock.due_at
        SlaClock.objects.bulk_update(
            paused, ["met_at", "next_check_at", "breached_at", "due_at", "paused_at", "paused_business_minutes"]
        )
    running = clocks.filter(paused_at__isnull=True)
    # Met late before the check saw it: it still counts as breached, at its due time.
    running.filter(due_at__lt=at, breached_at__isnull=True).update(breached_at=F("due_at"))
    running.update(met_at=at, next_check_at=None)


def _pause(order: WorkOrder, at: datetime) -> None:
    _open_clocks(order).filter(paused_at__isnull=True).update(paused_at=at, next_check_at=None)


def _resume(order: WorkOrder, at: datetime) -> None:
    clocks = list(_open_clocks(order).filter(paused_at__isnull=False))
    if not clocks:
        return
    specs = load_calendars({clock.calendar_id for clock in clocks})
    rules = active_rules()
    for clock in clocks:
        spec = specs[clock.calendar_id]
        _end_pause(spec, clock, at)
        clock.at_risk_at = add_business_time(
            spec, clock.started_at, share(clock.target_minutes, AT_RISK_PERCENT) + paused_time(clock)
        )
        _fired, clock.next_check_at = evaluate(spec, clock, rules, order.priority, at)
    SlaClock.objects.bulk_update(
        clocks, ["due_at", "at_risk_at", "paused_at", "paused_business_minutes", "next_check_at"]
    )


def _stop(order: WorkOrder, at: datetime) -> None:
    _open_clocks(order).update(stopped_at=at, next_check_at=None)


def after_moves(moves) -> None:
    """The lifecycle's hook (workorders.hooks.on_moved): the clocks of many moved orders, the
    orders met by one verb in one statement."""
    met: dict[tuple[str, datetime], list[int]] = {}
    for move in moves:
        if move.verb in MEETS:
            met.setdefault((MEETS[move.verb], move.at), []).append(move.order_id)
        else:
            on_transition(move.order, move.verb, at=move.at, hold_reason=move.hold_reason)
    for (kind, at), order_ids in met.items():
        _meet(order_ids, kind, at)


def on_transition(order: WorkOrder, verb: str, *, at, hold_reason: str = "") -> None:
    """Stop, pause or resume the order's clocks after a move. A hold pauses only when the order
    waits for the customer: waiting for our own parts is our problem, so the clock runs on."""
    if verb in MEETS:
        _meet([order.pk], MEETS[verb], at)
    elif verb == Transition.CANCEL:
        _stop(order, at)
    elif verb == Transition.HOLD:
        if hold_reason == HoldReason.WAITING_CUSTOMER:
            _pause(order, at)
    elif verb == Transition.RESUME:
        _resume(order, at)
