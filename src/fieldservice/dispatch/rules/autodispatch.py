"""Auto-dispatch: apply the first matching rule to orders waiting for dispatch.

One path for one order or ten thousand: `auto_dispatch_many` locks the orders still waiting,
decides them all in memory (the engine), and writes through the dispatch services' batch
(`dispatch_by_rules`), which moves the orders through the lifecycle's batch path: the same
transition table, service log, SLA clocks and outbox messages as a dispatcher's click, in a few
set-based statements. `auto_dispatch(order)` is that pass over one order. The outbox consumer
runs it once per drained batch of messages, a dispatcher's "run the rules" over every waiting
order.

An order is left alone when it is no longer waiting (dispatched, in the pool, cancelled): the
consumer may see a message twice, and a dispatcher may have been quicker.
"""

from __future__ import annotations

from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import Organisation, User
from fieldservice.core.db import any_of
from fieldservice.core.errors import DomainError, require
from fieldservice.dispatch import hooks
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.assignments.selectors import parts_covered
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole, RuleStrategy
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.dispatch.rules.engine import Decision, Snapshot, context_for, decide, load_context
from fieldservice.workorders.choices import TRANSITIONS, Transition
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import orders_to_dispatch
from fieldservice.workorders.services.log import log_events

NOBODY_ACTION = "auto_dispatch"
DISPATCH_FROM, _DISPATCHED = TRANSITIONS[Transition.DISPATCH]


def _waiting_rows(order_ids) -> list[tuple]:
    """Of these orders, those still waiting for a dispatcher (no active lead, not in the pool),
    locked until the commit, with their fact rows (`Snapshot.fact_rows`) read by the same query
    that locks them, by pk."""
    locked = WorkOrder.objects.select_for_update(of=("self",)).filter(
        pk__in=any_of(order_ids), status__in=DISPATCH_FROM
    )
    rows = Snapshot.fact_rows(locked)
    if not rows:
        return []
    ids = any_of(row[0] for row in rows)
    busy = set(
        Assignment.objects.filter(
            work_order_id__in=ids, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
        ).values_list("work_order_id", flat=True)
    )
    busy |= hooks.held(ids)
    return [row for row in rows if row[0] not in busy] if busy else rows


def _lock_cursors(context, decisions_rules) -> None:
    """Round robin reads its cursor under a row lock, so two drains never both take the
    engineer after the same cursor."""
    ids = sorted({rule.pk for rule in decisions_rules if rule.strategy == RuleStrategy.ROUND_ROBIN})
    if ids:
        for pk, last in (
            DispatchRule.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "last_engineer_id")
        ):
            context.cursors[pk] = last


def _choose(snapshot: Snapshot, context, facts, firsts) -> list[Decision]:
    decisions = []
    engineers = snapshot.engineers
    for item, compiled in zip(facts, firsts, strict=True):
        decision = decide(snapshot, item, context, compiled=compiled)
        if decision.engineer_id is not None:
            # Later orders of the batch see the load this one adds.
            engineers[decision.engineer_id].open_orders += 1
        decisions.append(decision)
    return decisions


def nobody_note(decision: Decision) -> str:
    return _("Rule “%(rule)s” matched but picked nobody: %(reason)s") % {
        "rule": decision.rule.name,
        "reason": decision.reason,
    }


def _rule_counts(decisions: list[Decision]) -> tuple[Counter, dict]:
    """How many orders each rule caught, and the engineer each round-robin rule gave the last one."""
    caught = Counter(d.rule.pk for d in decisions if d.rule is not None)
    last = {}
    for d in decisions:
        if d.rule is not None and d.rule.strategy == RuleStrategy.ROUND_ROBIN and d.engineer_id:
            last[d.rule.pk] = d.engineer_id
    return caught, last


def _update_rules(decisions: list[Decision]) -> None:
    caught, last = _rule_counts(decisions)
    for pk, count in caught.items():
        fields = {"matched_count": F("matched_count") + count}
        if pk in last:
            fields["last_engineer_id"] = last[pk]
        DispatchRule.objects.filter(pk=pk).update(**fields)


@transaction.atomic
def auto_dispatch(order: WorkOrder) -> Decision | None:
    """The rule pass over one order. None when the order is not waiting or there are no active
    rules; else the decision (its `rule` None when no rule matched)."""
    _counts, decisions = _rule_pass([order.pk])
    return decisions[0] if decisions else None


@transaction.atomic
def auto_dispatch_many(orders, *, snapshot: Snapshot | None = None) -> dict:
    """The rule pass over many orders (or their ids). Returns counts: orders, waiting, matched,
    assigned, pooled, nobody."""
    counts, _decisions = _rule_pass([getattr(o, "pk", o) for o in orders], snapshot)
    return counts


def _rule_pass(order_ids: list[int], snapshot: Snapshot | None = None) -> tuple[dict, list[Decision]]:
    rows = _waiting_rows(order_ids)
    snapshot = snapshot or Snapshot()
    counts = {"orders": len(order_ids), "waiting": len(rows), "matched": 0, "assigned": 0, "pooled": 0, "nobody": 0}
    if not rows or not snapshot.rules:
        return counts, []
    decisions = _evaluate(snapshot, _read(snapshot, rows), rows)
    matched = [d for d in decisions if d.rule is not None]
    _update_rules(matched)
    given = [d for d in matched if not d.pool and (d.engineer_id or d.provider_id)]
    assigned = _dispatch(snapshot, given)
    pooled = _pool([d for d in matched if d.pool])
    nobody = [d for d in matched if not (d.pool or d.engineer_id or d.provider_id)]
    if nobody:
        log_events(
            [
                {
                    "work_order_id": d.facts.pk,
                    "action": NOBODY_ACTION,
                    "note": nobody_note(d),
                    "payload": {"rule": d.rule.pk},
                }
                for d in nobody
            ],
            at=timezone.now(),
        )
    counts.update(matched=len(matched), assigned=len(assigned), pooled=len(pooled), nobody=len(nobody))
    return counts, decisions


def _dispatch(snapshot: Snapshot, given: list[Decision]) -> list[int]:
    """Write the picks in one batch. A pick refused at the last moment (the engineer went on
    leave since the snapshot) leaves its order waiting with a note instead of failing the
    pass: the batch is then written again one order at a time to find it."""
    if not given:
        return []
    provider_ids = {d.provider_id for d in given if d.provider_id}
    providers = dict(Organisation.objects.filter(pk__in=provider_ids).values_list("pk", "name")) if provider_ids else {}
    picks = [
        services.RulePick(
            order_id=d.facts.pk,
            rule=d.rule,
            engineer_id=d.engineer_id,
            provider_id=None if d.engineer_id else d.provider_id,
            name=snapshot.engineers[d.engineer_id].name if d.engineer_id else providers[d.provider_id],
        )
        for d in given
    ]
    try:
        with transaction.atomic():
            return services.dispatch_by_rules(picks)
    except (ValidationError, DomainError) as error:
        if len(picks) == 1:
            _refused(given[0], error)
            return []
    dispatched = []
    for decision, pick in zip(given, picks, strict=True):
        try:
            with transaction.atomic():
                dispatched += services.dispatch_by_rules([pick])
        except (ValidationError, DomainError) as error:
            _refused(decision, error)
    return dispatched


def _pool(pooled: list[Decision]) -> list[Decision]:
    done = []
    orders = WorkOrder.objects.in_bulk([d.facts.pk for d in pooled]) if pooled else {}
    for decision in pooled:
        try:
            with transaction.atomic():
                hooks.perform_rule_action(orders[decision.facts.pk], decision.rule)
        except (ValidationError, DomainError) as error:
            _refused(decision, error)
        else:
            done.append(decision)
    return done


def _refused(decision: Decision, error: Exception) -> None:
    messages = getattr(error, "messages", None) or [getattr(error, "message", str(error))]
    decision.engineer_id = decision.provider_id = None
    decision.pool = False
    decision.reason = " ".join(str(m) for m in messages)


def _read(snapshot: Snapshot, rows):
    """What deciding a batch reads besides the orders' rows, before anything is written: their
    history, and the round-robin cursors (every round-robin rule's, locked)."""
    context = context_for([r[0] for r in rows], {r[9] for r in rows if r[9]}, snapshot.rules)
    _lock_cursors(context, [c.rule for c in snapshot.rules])
    return context


def _evaluate(snapshot: Snapshot, context, rows) -> list[Decision]:
    """The decisions for the rows `_read` read: facts, first matching rule, choice."""
    facts = snapshot.facts_of(rows)
    return _choose(snapshot, context, facts, [snapshot.first_rule(f) for f in facts])


def explain(order: WorkOrder) -> dict:
    """What the rules would do with the order now, without changing anything (the tester):
    every active rule with whether it matches, the first match, and the candidates it would
    weigh with their factors and totals. No row is locked or written."""
    from fieldservice.dispatch.rules.conditions import conditions_match

    snapshot = Snapshot()
    facts = snapshot.facts_for([order.pk])[0]
    context = load_context([facts], snapshot.rules)
    decision = decide(snapshot, facts, context, explain=True)
    waiting = order.status in DISPATCH_FROM and bool(_idle([order.pk]))
    covers = parts_covered([facts], [c.engineer.pk for c in decision.candidates]).get(order.pk, {})
    for candidate in decision.candidates:
        cover = covers.get(candidate.engineer.pk)
        if cover is not None:
            candidate.parts, candidate.missing = cover.status, cover.missing
    return {
        "facts": facts,
        "rules": [(c.rule, conditions_match(c.conditions, facts)) for c in snapshot.rules],
        "decision": decision,
        "engineer": snapshot.engineers.get(decision.engineer_id),
        "weights": next((c.weights for c in snapshot.rules if decision.rule and c.pk == decision.rule.pk), {}),
        "waiting": waiting,
    }


def _idle(ids) -> list[int]:
    """Orders with no active lead and no open pool offer (read only, no lock)."""
    busy = set(
        Assignment.objects.filter(
            work_order_id__in=any_of(ids), role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
        ).values_list("work_order_id", flat=True)
    ) | hooks.held(ids)
    return [pk for pk in ids if pk not in busy]


@transaction.atomic
def run_rules(*, actor: User) -> dict:
    """A dispatcher's "run the rules on the waiting orders" (after the rules changed, or on a
    backlog): one rule pass over every order waiting for a dispatcher. Returns its counts."""
    require(may_dispatch(actor))
    return auto_dispatch_many(list(orders_to_dispatch(actor).values_list("pk", flat=True)))
