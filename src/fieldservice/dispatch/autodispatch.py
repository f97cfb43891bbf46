"""Auto-dispatch: apply the first matching rule to orders waiting for dispatch.

`auto_dispatch(order)` is what the outbox consumer runs for one new, rejected or revoked order:
it goes through the dispatch services (the same transition, SLA clocks and outbox messages as a
dispatcher's click). `auto_dispatch_many(orders)` decides a batch in memory and writes it with
bulk statements (an import, a backlog after the rules changed); it writes the same rows.

An order is left alone when it is no longer waiting (dispatched, in the pool, cancelled): the
consumer may see a message twice, and a dispatcher may have been quicker.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import chain, repeat

import psycopg
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import Organisation, User
from fieldservice.core.errors import DomainError
from fieldservice.core.outbox import emit_many, emit_many_pipelined
from fieldservice.dispatch import services
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole, AssignmentStatus, RuleStrategy
from fieldservice.dispatch.engine import Decision, Snapshot, any_of, context_for, decide, load_context
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.workorders.choices import TRANSITIONS, Transition
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from fieldservice.workorders.services.log import log_event

NOBODY_ACTION = "auto_dispatch"
# The lifecycle's own move, written in bulk: lifecycle.transition row by row cannot meet the
# batch's budget, so the batch applies the same table entry to many rows at once.
DISPATCH_FROM, DISPATCHED = TRANSITIONS[Transition.DISPATCH]


def _waiting(order_ids) -> list[int]:
    """Of these orders, those still waiting for a dispatcher, locked until the commit."""
    return [row[0] for row in _waiting_rows(order_ids, flat=True)]


def _waiting_rows(order_ids, *, flat: bool = False) -> list[tuple]:
    """`_waiting` with the orders' fact rows (`Snapshot.fact_rows`) read by the same query that
    locks them, by pk."""
    locked = WorkOrder.objects.select_for_update(of=("self",)).filter(
        pk__in=any_of(order_ids), status__in=DISPATCH_FROM
    )
    rows = [(pk,) for pk in locked.order_by("pk").values_list("pk", flat=True)] if flat else Snapshot.fact_rows(locked)
    if not rows:
        return []
    ids = any_of(row[0] for row in rows)
    busy = set(
        Assignment.objects.filter(
            work_order_id__in=ids, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
        ).values_list("work_order_id", flat=True)
    )
    busy |= _in_pool(ids)
    return [row for row in rows if row[0] not in busy] if busy else rows


def _in_pool(ids) -> set[int]:
    from fieldservice.pool.choices import ACTIVE_OFFER_STATUSES
    from fieldservice.pool.models import PoolOffer

    return set(
        PoolOffer.objects.filter(work_order_id__in=any_of(ids), status__in=ACTIVE_OFFER_STATUSES).values_list(
            "work_order_id", flat=True
        )
    )


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


def _prepare(snapshot: Snapshot, order_ids: list[int]):
    """The orders' facts and history, and the first rule each matches (round-robin cursors
    locked): everything the choices need, read before any write."""
    facts = snapshot.facts_for(order_ids)
    context = load_context(facts, snapshot.rules)
    firsts = [snapshot.first_rule(f) for f in facts]
    _lock_cursors(context, [c.rule for c in firsts if c is not None])
    return facts, context, firsts


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


def _decide(snapshot: Snapshot, order_ids: list[int]) -> list[Decision]:
    facts, context, firsts = _prepare(snapshot, order_ids)
    return _choose(snapshot, context, facts, firsts)


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


def _publish(order: WorkOrder, rule: DispatchRule) -> None:
    from fieldservice.pool.services import publish_to_pool

    publish_to_pool(
        order, actor=None, rule=rule, minutes=rule.pool_minutes, requires_approval=rule.pool_requires_approval
    )


@transaction.atomic
def auto_dispatch(order: WorkOrder) -> Decision | None:
    """Apply the rules to one order through the dispatch services. None when the order is not
    waiting or there are no active rules."""
    if not DispatchRule.objects.filter(is_active=True).exists() or not _waiting([order.pk]):
        return None
    snapshot = Snapshot()
    decision = _decide(snapshot, [order.pk])[0]
    if decision.rule is None:
        return decision
    _update_rules([decision])
    order = WorkOrder.objects.get(pk=order.pk)
    rule = decision.rule
    try:
        # A savepoint: a check that fails at the last moment (the engineer went on leave since
        # the snapshot) leaves the order waiting with a note instead of failing the message.
        with transaction.atomic():
            if decision.pool:
                _publish(order, rule)
            elif decision.engineer_id is not None:
                services.dispatch_by_rule(order, rule=rule, engineer=User.objects.get(pk=decision.engineer_id))
            elif decision.provider_id is not None:
                services.dispatch_by_rule(order, rule=rule, provider=Organisation.objects.get(pk=decision.provider_id))
    except (ValidationError, DomainError) as error:
        messages = getattr(error, "messages", None) or [getattr(error, "message", str(error))]
        decision.engineer_id = decision.provider_id = None
        decision.pool = False
        decision.reason = " ".join(str(m) for m in messages)
    if not (decision.pool or decision.engineer_id or decision.provider_id):
        log_event(order, actor=None, action=NOBODY_ACTION, note=nobody_note(decision), payload={"rule": rule.pk})
    return decision


# Orders decided, and written, per chunk: on PostgreSQL the server writes one chunk while Python
# decides the next (a psycopg pipeline), so a batch costs about max(evaluation, writes), not the
# sum. The first chunks are small so the server starts writing early and has the next chunk
# before it runs out of work.
CHUNKS = (250, 750, 1500)  # then CHUNK at a time
CHUNK = 2000


@transaction.atomic
def auto_dispatch_many(orders, *, snapshot: Snapshot | None = None) -> dict:
    """Apply the rules to many orders at once: decisions in memory, then bulk writes
    (assignments, status, service log, SLA response clocks, outbox). Returns counts."""
    order_ids = [getattr(o, "pk", o) for o in orders]
    rows = _waiting_rows(order_ids)
    snapshot = snapshot or Snapshot()
    counts = {"orders": len(order_ids), "waiting": len(rows), "matched": 0, "assigned": 0, "pooled": 0, "nobody": 0}
    if not rows or not snapshot.rules:
        return counts
    context = _read(snapshot, rows)
    pipelined = connection.vendor == "postgresql"
    writer = (_PipelinedWriter if pipelined else _Writer)(snapshot, timezone.now())
    matched = []
    with writer:
        for part in _chunks(rows) if pipelined else [rows]:
            chunk = [d for d in _evaluate(snapshot, context, part) if d.rule is not None]
            matched.extend(chunk)
            writer.write(chunk)
        writer.count_rules(matched)
    counts["matched"] = len(matched)
    pooled = [d for d in matched if d.pool]
    if pooled:
        orders_by_pk = WorkOrder.objects.in_bulk([d.facts.pk for d in pooled])
        for d in pooled:
            _publish(orders_by_pk[d.facts.pk], d.rule)
    counts.update(assigned=len(writer.given_ids), pooled=len(pooled), nobody=writer.nobody)
    return counts


def _chunks(rows):
    start = 0
    for size in chain(CHUNKS, repeat(CHUNK)):
        if start >= len(rows):
            return
        yield rows[start : start + size]
        start += size


def _read(snapshot: Snapshot, rows):
    """What deciding a batch reads besides the orders' rows, before anything is written: their
    history, and the round-robin cursors (every round-robin rule's, locked: which rules the
    orders match is worked out chunk by chunk, after the reads)."""
    context = context_for([r[0] for r in rows], {r[9] for r in rows if r[9]}, snapshot.rules)
    _lock_cursors(context, [c.rule for c in snapshot.rules])
    return context


def _evaluate(snapshot: Snapshot, context, rows) -> list[Decision]:
    """The decisions for some of the rows `_read` returned: facts, first matching rule, choice."""
    facts = snapshot.facts_of(rows)
    return _choose(snapshot, context, facts, [snapshot.first_rule(f) for f in facts])


class _Writer:
    """The rows of a dispatch by rule, as the dispatch services write them: the lead assignment,
    the status, the service log line and the `work_order.transitioned` message; a note in the
    service log when the rule picked nobody. This one writes through the ORM (SQLite)."""

    def __init__(self, snapshot: Snapshot, now):
        self.now = now
        self.engineers = snapshot.engineers
        provider_ids = {c.rule.target_provider_id for c in snapshot.rules if c.rule.target_provider_id}
        self.providers = dict(Organisation.objects.filter(pk__in=provider_ids).values_list("pk", "name"))
        self.notes = {}
        self.given_ids = []
        self.nobody = 0
        self.stamp = now.timestamp()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def count_rules(self, decisions: list[Decision]) -> None:
        _update_rules(decisions)

    def write(self, decisions: list[Decision]) -> None:
        given = [d for d in decisions if not d.pool and (d.engineer_id or d.provider_id)]
        nobody = [d for d in decisions if not d.pool and not (d.engineer_id or d.provider_id)]
        events, messages = self.rows(given, nobody)
        given_ids = [d.facts.pk for d in given]
        self.given_ids.extend(given_ids)
        self.nobody += len(nobody)
        self.send(given, given_ids, events, messages)

    def send(self, given, given_ids, events, messages) -> None:
        now = self.now
        if given:
            Assignment.objects.bulk_create(
                (
                    Assignment(role=AssignmentRole.LEAD, status=AssignmentStatus.OFFERED, assigned_at=now, **row)
                    for row in self.assignments(given)
                ),
                batch_size=2000,
            )
            changed = WorkOrder.objects.filter(pk__in=any_of(given_ids), status__in=DISPATCH_FROM).update(
                status=DISPATCHED, updated_at=now
            )
            assert changed == len(given_ids), "the orders are locked; their status cannot have moved"
        if events:
            WorkOrderEvent.objects.bulk_create((WorkOrderEvent(at=now, **row) for row in events), batch_size=2000)
        _meet_response_clocks(given_ids, now)
        emit_many(messages)

    @staticmethod
    def assignments(given) -> list[dict]:
        return [
            {
                "work_order_id": d.facts.pk,
                "engineer_id": d.engineer_id,
                "provider_id": d.provider_id,
                "rule_id": d.rule.pk,
            }
            for d in given
        ]

    def rows(self, given, nobody) -> tuple[list[dict], list[tuple]]:
        events, messages, notes = [], [], self.notes
        verb, dispatched, stamp = str(Transition.DISPATCH), str(DISPATCHED), self.stamp
        engineers, providers = self.engineers, self.providers
        for d in given:
            rule_id = d.rule.id
            if d.engineer_id:
                payload = {"engineer": d.engineer_id, "engineer_name": engineers[d.engineer_id].name, "rule": rule_id}
            else:
                payload = {"provider": d.provider_id, "provider_name": providers[d.provider_id], "rule": rule_id}
            note = notes.get(rule_id)
            if note is None:
                note = notes[rule_id] = services.rule_note(d.rule)
            order_id, status = d.facts.pk, d.facts.status
            events.append(
                {
                    "work_order_id": order_id,
                    "action": verb,
                    "from_status": status,
                    "to_status": dispatched,
                    "note": note,
                    "payload": payload,
                }
            )
            # The message lifecycle.transition would emit for the move.
            messages.append(
                (
                    "work_order.transitioned",
                    {
                        "work_order": order_id,
                        "verb": verb,
                        "from": status,
                        "to": dispatched,
                        "actor": None,
                        "note": note[:500],
                    },
                    f"auto-dispatch:{order_id}:{stamp}",
                )
            )
        events.extend(
            {
                "work_order_id": d.facts.pk,
                "action": NOBODY_ACTION,
                "from_status": "",
                "to_status": "",
                "note": nobody_note(d),
                "payload": {"rule": d.rule.pk},
            }
            for d in nobody
        )
        return events, messages


# The foreign keys of the rows a chunk inserts are checked as each statement ends instead of all
# at the commit: the same checks, but the server does them for one chunk while Python decides the
# next. They are deferred again afterwards, for the rest of the caller's transaction.
IMMEDIATE_CHECKS = (Assignment, WorkOrderEvent)
_foreign_keys: dict = {}


class _PipelinedWriter(_Writer):
    """The same rows in a few statements a chunk, sent through a psycopg pipeline on the
    transaction's connection: `write` returns as soon as the statements are sent."""

    def __enter__(self):
        with connection.cursor() as cursor:
            self.checks = [name for model in IMMEDIATE_CHECKS for name in self._foreign_keys(cursor, model)]
        self.raw = connection.connection
        self.pipeline = self.raw.pipeline()
        self.pipeline.__enter__()
        self.cursor = psycopg.Cursor(self.raw)
        self.updates, self.drain = [], False
        if self.checks:
            self.cursor.execute(f"SET CONSTRAINTS {', '.join(self.checks)} IMMEDIATE")
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None and self.checks:
            self.cursor.execute(f"SET CONSTRAINTS {', '.join(self.checks)} DEFERRED")
        # Leaving the pipeline waits for every statement and raises the first error.
        self.pipeline.__exit__(kind, error, trace)
        if kind is None:
            changed = sum(cursor.rowcount for cursor in self.updates)
            assert changed == len(self.given_ids), "the orders are locked; their status cannot have moved"

    @staticmethod
    def _foreign_keys(cursor, model) -> list[str]:
        key = (connection.settings_dict["NAME"], model._meta.db_table)
        names = _foreign_keys.get(key)
        if names is None:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            names = _foreign_keys[key] = sorted(
                connection.ops.quote_name(name) for name, c in constraints.items() if c["foreign_key"]
            )
        return names

    def count_rules(self, decisions: list[Decision]) -> None:
        caught, last = _rule_counts(decisions)
        if caught:
            self.cursor.execute(
                f"UPDATE {DispatchRule._meta.db_table} AS r SET matched_count = r.matched_count + v.n, "
                "last_engineer_id = COALESCE(v.last, r.last_engineer_id) "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, n, last) WHERE r.id = v.id",
                [_array(caught), _array(caught.values()), _array(last.get(pk) for pk in caught)],
            )

    def send(self, given, given_ids, events, messages) -> None:
        cursor, now = self.cursor, self.now
        if given:
            # Whole columns as array literals: the server parses them far faster than a jsonb
            # document or Django's per-row parameters.
            cursor.execute(
                f"INSERT INTO {Assignment._meta.db_table} (work_order_id, engineer_id, provider_id, role, status, "
                "reason, rule_id, assigned_by_id, assigned_at, responded_at) "
                "SELECT v.work_order_id, v.engineer_id, v.provider_id, %s, %s, '', v.rule_id, NULL, %s, NULL "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
                "AS v(work_order_id, engineer_id, provider_id, rule_id)",
                [
                    AssignmentRole.LEAD.value,
                    AssignmentStatus.OFFERED.value,
                    now,
                    _array(given_ids),
                    _array(d.engineer_id for d in given),
                    _array(d.provider_id for d in given),
                    _array(d.rule.pk for d in given),
                ],
            )
        if events:
            # Columns as array literals, each distinct note sent once: a tenth of the bytes of a
            # jsonb document for the server to parse.
            notes = {}
            for event in events:
                notes.setdefault(event["note"], len(notes) + 1)
            cursor.execute(
                f"INSERT INTO {WorkOrderEvent._meta.db_table} (work_order_id, action, from_status, to_status, "
                "actor_id, note, latitude, longitude, payload, at) "
                "SELECT v.work_order_id, v.action, v.from_status, v.to_status, NULL, (%s::text[])[v.note], NULL, "
                "NULL, v.payload::jsonb, %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::int[], %s::text[]) "
                "AS v(work_order_id, action, from_status, to_status, note, payload)",
                [
                    _texts(notes),
                    now,
                    _array(e["work_order_id"] for e in events),
                    _texts(e["action"] for e in events),
                    _texts(e["from_status"] for e in events),
                    _texts(e["to_status"] for e in events),
                    _array(notes[e["note"]] for e in events),
                    _texts(json.dumps(e["payload"]) for e in events),
                ],
            )
        if given:
            update = psycopg.Cursor(self.raw)
            update.execute(
                f"UPDATE {WorkOrder._meta.db_table} SET status = %s, updated_at = %s "
                "WHERE id = ANY(%s::bigint[]) AND status = ANY(%s::text[])",
                [
                    DISPATCHED.value,
                    now,
                    _array(given_ids),
                    [str(s) for s in DISPATCH_FROM],
                ],
            )
            self.updates.append(update)
            # What `_meet_response_clocks` does, in the pipeline.
            from fieldservice.sla.choices import TargetKind
            from fieldservice.sla.models import SlaClock

            table, ids, kind = SlaClock._meta.db_table, _array(given_ids), TargetKind.RESPONSE.value
            running = "work_order_id = ANY(%s::bigint[]) AND kind = %s AND met_at IS NULL AND stopped_at IS NULL"
            cursor.execute(
                f"UPDATE {table} SET breached_at = due_at WHERE {running} AND due_at < %s AND breached_at IS NULL",
                [ids, kind, now],
            )
            cursor.execute(f"UPDATE {table} SET met_at = %s, next_check_at = NULL WHERE {running}", [now, ids, kind])
        emit_many_pipelined(cursor, messages, drain=not self.drain)
        self.drain = self.drain or bool(messages)


def _array(ids) -> str:
    """A bigint[] literal (None as NULL)."""
    return "{" + ",".join("NULL" if i is None else str(int(i)) for i in ids) + "}"


def _texts(values) -> str:
    """A text[] literal."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _meet_response_clocks(order_ids: list[int], at) -> None:
    """What `sla.services.on_transition` does for a dispatch, for many orders: the response
    clock is met (late ones count as breached at their due time). Orders waiting for dispatch
    have no paused clock (only a hold pauses, and a held order is not waiting)."""
    from fieldservice.sla.choices import TargetKind
    from fieldservice.sla.models import SlaClock

    if not order_ids:
        return
    clocks = SlaClock.objects.filter(
        work_order_id__in=any_of(order_ids), kind=TargetKind.RESPONSE, met_at__isnull=True, stopped_at__isnull=True
    )
    clocks.filter(due_at__lt=at, breached_at__isnull=True).update(breached_at=F("due_at"))
    clocks.update(met_at=at, next_check_at=None)


def explain(order: WorkOrder) -> dict:
    """What the rules would do with the order now, without changing anything (the tester):
    every active rule with whether it matches, the first match, and the candidates it would
    weigh with their factors and totals. No row is locked or written."""
    from fieldservice.dispatch.rules import conditions_match

    snapshot = Snapshot()
    facts = snapshot.facts_for([order.pk])[0]
    context = load_context([facts], snapshot.rules)
    decision = decide(snapshot, facts, context, explain=True)
    waiting = order.status in DISPATCH_FROM and bool(_idle([order.pk]))
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
    ) | _in_pool(ids)
    return [pk for pk in ids if pk not in busy]
