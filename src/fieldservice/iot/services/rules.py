"""The rules: what an ingested batch makes the service department do.

Registered with `iot.hooks.on_ingested` (apps.ready), so it runs inside the batch's transaction
with what the batch changed, set-based: a batch of thousands of readings costs a handful of
queries per rule, not one per reading.

- An alarm raised (or raised again) whose code the administrator mapped with "opens an order"
  fires the cause "alarm:<code>" for its machine; an unmapped code opens nothing.
- A threshold rule fires "rule:<id>": ABOVE/BELOW a value held for its window (by the readings'
  times: `RuleState.since` is when the condition started holding), RATE (the metric rose faster
  than `value` an hour, against the reading at or before the window's start).
- A PLAN_USAGE rule names a meter: its readings are recorded as the machine's meter readings
  (at most one an hour per machine), and a reading that passes a usage-based maintenance plan's
  next threshold has maintenance's own generation open the plan's visit (that visit is the order).

One open order per machine and cause: the first firing opens an `Incident` and a proactive order
(channel IoT) through `workorders.services.proactive.open_proactive_orders`; firing again while
it is open adds to the incident (count, the last readings) and, at most every
`LOG_EVERY`, a line to the order's service log. The incident closes with its order (a
`workorders.hooks.on_moved` hook); after that the same cause opens a new order. Two batches
firing the same cause at once meet on the incidents' partial unique index: the second waits for
the first and adds to its incident.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from fieldservice.assets.choices import MeterSource
from fieldservice.assets.models import Equipment, MeterReading
from fieldservice.assets.services import record_meter_reading
from fieldservice.contracts.models import Contract
from fieldservice.core.db import any_of, insert_rows, reserve_ids
from fieldservice.core.outbox import emit_many
from fieldservice.iot.choices import RuleKind
from fieldservice.iot.hooks import Changes
from fieldservice.iot.models import Alarm, AlarmMapping, Incident, Reading, RuleState, ThresholdRule
from fieldservice.maintenance.models import MaintenancePlan, PlanScope
from fieldservice.maintenance.services.plans import generate_due_visits
from fieldservice.workorders.choices import Channel, ServiceType, WorkOrderStatus
from fieldservice.workorders.hooks import Move
from fieldservice.workorders.models import WorkOrderEvent
from fieldservice.workorders.services.log import log_events
from fieldservice.workorders.services.proactive import ProactiveSpec, open_proactive_orders

EVIDENCE_LIMIT = 20  # readings kept on an incident
LOG_EVERY = dt.timedelta(minutes=15)  # at most one "fired again" line per order in this time
METER_EVERY = dt.timedelta(hours=1)  # at most one meter reading per machine and meter
ENDED = frozenset({WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED})
ORDER_OPENED_TOPIC = "iot.order_opened"

# Service-log actions (labelled in choices.ACTION_LABELS).
FIRED_AGAIN = "iot_fired_again"
ALARM_CLEARED = "iot_alarm_cleared"


@dataclass
class Fire:
    """A cause firing for a machine in this batch: what its order is about."""

    equipment_id: int
    cause: str
    title: str  # the alarm code, the rule's name
    fault_category_id: int | None
    priority: str
    notify_customer: bool
    evidence: list[dict] = field(default_factory=list)
    alarm_ids: list[int] = field(default_factory=list)
    count: int = 1


def _moment(at: dt.datetime) -> str:
    return at.isoformat()


def _reading_evidence(metric: str, at: dt.datetime, value: float) -> dict:
    return {"metric": metric, "value": value, "at": _moment(at)}


def _describe(evidence: list[dict]) -> str:
    parts = []
    for item in evidence[-5:]:
        when = timezone.localtime(parse_datetime(item["at"])).strftime("%Y-%m-%d %H:%M:%S")
        if "metric" in item:
            parts.append(f"{item['metric']} = {item['value']:g} ({when})")
        else:
            parts.append(f"{item['code']} {item.get('severity', '')} ({when})".replace("  ", " "))
    return "; ".join(parts)


# --------------------------------------------------------------------------- the hook


def on_ingested(changes: Changes) -> None:
    fires = _alarm_fires(changes)
    if changes.readings:
        rules = list(ThresholdRule.objects.filter(is_active=True, metric__in={r[1] for r in changes.readings}))
        if rules:
            models = _models_of({r[0] for r in changes.readings})
            fires += _held_fires(changes, [r for r in rules if r.kind in (RuleKind.ABOVE, RuleKind.BELOW)], models)
            fires += _rate_fires(changes, [r for r in rules if r.kind == RuleKind.RATE], models)
            _plan_usage(changes, [r for r in rules if r.kind == RuleKind.PLAN_USAGE], models)
    if fires:
        _open_or_add(fires, changes.now)
    if changes.cleared:
        _note_cleared(changes.cleared, changes.now)


def _models_of(machines: set[int]) -> dict[int, int | None]:
    return dict(Equipment.objects.filter(pk__in=any_of(machines)).values_list("pk", "product_model_id"))


def _applies(rule: ThresholdRule, machine: int, models: dict[int, int | None]) -> bool:
    return machine in models and (rule.product_model_id is None or models[machine] == rule.product_model_id)


# --------------------------------------------------------------------------- alarms


def _alarm_fires(changes: Changes) -> list[Fire]:
    alarms = [*changes.raised, *changes.repeated]
    if not alarms:
        return []
    mappings = {
        m.code: m
        for m in AlarmMapping.objects.filter(code__in={a.code for a in alarms}, is_active=True, opens_order=True)
    }
    fires: dict[tuple[int, str], Fire] = {}
    for alarm in alarms:
        mapping = mappings.get(alarm.code)
        if mapping is None:
            continue  # unmapped (or mapped to open nothing): stored and shown, nothing more
        cause = f"alarm:{alarm.code}"
        fire = fires.get((alarm.equipment_id, cause))
        if fire is None:
            fire = fires[(alarm.equipment_id, cause)] = Fire(
                alarm.equipment_id,
                cause,
                alarm.code,
                mapping.fault_category_id,
                mapping.priority,
                mapping.notify_customer,
                count=0,
            )
        fire.count += 1
        fire.alarm_ids.append(alarm.pk)
        entry = {"code": alarm.code, "severity": alarm.severity, "at": _moment(alarm.raised_at)}
        if alarm.message:
            entry["message"] = alarm.message
        fire.evidence.append(entry)
    return list(fires.values())


# --------------------------------------------------------------------------- threshold rules


def _series(changes: Changes, metrics: set[str]) -> dict[tuple[int, str], list[tuple[dt.datetime, float]]]:
    """The batch's readings of these metrics, per machine and metric, in time order."""
    series: dict[tuple[int, str], list] = defaultdict(list)
    for machine, metric, at, value in changes.readings:
        if metric in metrics:
            series[(machine, metric)].append((at, value))
    for points in series.values():
        points.sort()
    return series


def _held_fires(changes: Changes, rules: list[ThresholdRule], models) -> list[Fire]:
    """ABOVE/BELOW held for the window, measured by the readings' times."""
    if not rules:
        return []
    series = _series(changes, {rule.metric for rule in rules})
    pairs = [(rule, machine) for rule in rules for (machine, metric) in series if metric == rule.metric]
    pairs = [(rule, machine) for rule, machine in pairs if _applies(rule, machine, models)]
    if not pairs:
        return []
    states = {
        (rule_id, machine): since
        for rule_id, machine, since in RuleState.objects.filter(
            rule_id__in=[rule.pk for rule in rules], equipment_id__in=any_of({m for _r, m in pairs})
        ).values_list("rule_id", "equipment_id", "since")
    }
    fires, holding, broken = [], [], defaultdict(list)
    for rule, machine in pairs:
        since = states.get((rule.pk, machine))
        window = dt.timedelta(minutes=rule.window_minutes)
        fired_at = fired_from = None
        for at, value in series[(machine, rule.metric)]:
            if since is not None and at < since:
                continue  # older than the state (a late or redelivered reading)
            holds = value > rule.value if rule.kind == RuleKind.ABOVE else value < rule.value
            if not holds:
                since = None
                continue
            if since is None:
                since = at
            if at - since >= window:  # a window is at least a minute
                # Remembered apart: a later reading of the same batch may break the condition.
                fired_at, fired_from = at, since
        if since is None:
            if (rule.pk, machine) in states:
                broken[rule.pk].append(machine)
        elif states.get((rule.pk, machine)) != since:
            holding.append((rule.pk, machine, since))
        if fired_at is not None:
            evidence = [
                _reading_evidence(rule.metric, at, value)
                for at, value in series[(machine, rule.metric)]
                if fired_from <= at <= fired_at
            ][-EVIDENCE_LIMIT:]
            fires.append(_rule_fire(rule, machine, evidence))
    for rule_id, machines in broken.items():
        RuleState.objects.filter(rule_id=rule_id, equipment_id__in=any_of(machines)).delete()
    if holding:
        _hold(sorted(holding))
    return fires


def _hold(holding: list[tuple[int, int, dt.datetime]]) -> None:
    """Write (rule, machine, since) states, in one order (two processes wait, never deadlock).
    On PostgreSQL as one statement of column arrays: a stream where many machines cross and
    recross a threshold writes thousands a batch, and model instances cost more than the SQL."""
    if connection.vendor == "postgresql":
        insert_rows(
            RuleState,
            [{"rule_id": rule, "equipment_id": machine, "since": since} for rule, machine, since in holding],
            on_conflict="(rule_id, equipment_id) DO UPDATE SET since = excluded.since",
        )
        return
    RuleState.objects.bulk_create(
        [RuleState(rule_id=rule, equipment_id=machine, since=since) for rule, machine, since in holding],
        update_conflicts=True,
        unique_fields=["rule", "equipment"],
        update_fields=["since"],
    )


def _rule_fire(rule: ThresholdRule, machine: int, evidence: list[dict]) -> Fire:
    return Fire(
        machine, f"rule:{rule.pk}", rule.name, rule.fault_category_id, rule.priority, rule.notify_customer, evidence
    )


def _rate_fires(changes: Changes, rules: list[ThresholdRule], models) -> list[Fire]:
    """RATE: the newest reading of the batch against the one at or before the window's start,
    read for every machine of a rule in one query."""
    if not rules:
        return []
    series = _series(changes, {rule.metric for rule in rules})
    fires = []
    for rule in rules:
        window = dt.timedelta(minutes=rule.window_minutes)
        latest = {
            machine: points[-1]
            for (machine, metric), points in series.items()
            if metric == rule.metric and _applies(rule, machine, models)
        }
        if not latest:
            continue
        past = _readings_before(rule.metric, [(machine, at - window) for machine, (at, _v) in latest.items()])
        for machine, (at, value) in latest.items():
            before = past.get(machine)
            if before is None:
                continue
            then, old = before
            hours = (at - then).total_seconds() / 3600
            if hours > 0 and (value - old) / hours > rule.value:
                evidence = [_reading_evidence(rule.metric, then, old), _reading_evidence(rule.metric, at, value)]
                fires.append(_rule_fire(rule, machine, evidence))
    return fires


def _readings_before(metric: str, cutoffs: list[tuple[int, dt.datetime]]) -> dict[int, tuple[dt.datetime, float]]:
    """{machine: (time, value)} of each machine's last reading of the metric at or before its cutoff."""
    table = connection.ops.quote_name(Reading._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            "SELECT v.eq, r.at, r.value FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(eq, cutoff) "
            f"CROSS JOIN LATERAL (SELECT at, value FROM {table} WHERE equipment_id = v.eq AND metric = %s "  # noqa: S608
            "AND at <= v.cutoff ORDER BY at DESC LIMIT 1) AS r"
        )
        params = [[m for m, _c in cutoffs], [c for _m, c in cutoffs], metric]
    else:
        values = ", ".join(["(%s, %s)"] * len(cutoffs))
        sql = (
            f"WITH v(eq, cutoff) AS (VALUES {values}) SELECT v.eq, "  # noqa: S608
            f"(SELECT at FROM {table} WHERE equipment_id = v.eq AND metric = %s AND at <= v.cutoff "
            "ORDER BY at DESC LIMIT 1), "
            f"(SELECT value FROM {table} WHERE equipment_id = v.eq AND metric = %s AND at <= v.cutoff "
            "ORDER BY at DESC LIMIT 1) FROM v"
        )
        params = [p for m, c in cutoffs for p in (m, connection.ops.adapt_datetimefield_value(c))] + [metric, metric]
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for machine, at, value in cursor.fetchall():
            if at is None:
                continue
            if isinstance(at, str):
                at = parse_datetime(at)
            if at.tzinfo is None:  # SQLite keeps UTC without its zone
                at = at.replace(tzinfo=dt.UTC)
            found[machine] = (at, value)
    return found


# --------------------------------------------------------------------------- meters and plans


def _plan_usage(changes: Changes, rules: list[ThresholdRule], models) -> None:
    """Record a meter's readings as the machines' meter readings (at most one an hour, counters
    only go up) and have maintenance open the usage visits of the plans whose threshold they pass."""
    if not rules:
        return
    series = _series(changes, {rule.metric for rule in rules})
    newest: dict[tuple[int, str], tuple[dt.datetime, float]] = {}
    for rule in rules:
        for (machine, metric), points in series.items():
            if metric == rule.metric and _applies(rule, machine, models):
                newest[(machine, metric)] = points[-1]
    if not newest:
        return
    last: dict[tuple[int, str], tuple[dt.datetime, Decimal]] = {
        (machine, meter): (at, value)
        for machine, meter, at, value in MeterReading.objects.filter(
            equipment_id__in=any_of({m for m, _meter in newest}), meter__in={meter for _m, meter in newest}
        )
        .values("equipment_id", "meter")
        .annotate(at=Max("read_at"), high=Max("value"))
        .order_by()
        .values_list("equipment_id", "meter", "at", "high")
    }
    recorded: dict[tuple[int, str], tuple[Decimal | None, Decimal]] = {}
    machines = Equipment.objects.in_bulk([m for m, _meter in newest])
    for (machine, meter), (at, value) in sorted(newest.items()):
        before = last.get((machine, meter))
        if before is not None and (at < before[0] + METER_EVERY or Decimal(str(value)) < before[1]):
            continue
        try:
            reading = record_meter_reading(
                machines[machine], actor=None, value=value, source=MeterSource.IOT, meter=meter, read_at=at
            )
        except ValidationError:
            continue  # refused by the meter's own rules (a counter going down): not recorded
        recorded[(machine, meter)] = (before[1] if before else None, reading.value)
    if recorded:
        _open_usage_visits(recorded, models, timezone.localdate(changes.now))


def _open_usage_visits(recorded, models, today: dt.date) -> None:
    """The usage plans covering the machines whose new reading passed one of their thresholds:
    their visits opened by maintenance's generation, narrowed to those plans and machines."""
    machines = {machine for machine, _meter in recorded}
    contracts = defaultdict(set)
    for contract_id, machine in Contract.equipment.through.objects.filter(
        equipment_id__in=any_of(machines)
    ).values_list("contract_id", "equipment_id"):
        contracts[contract_id].add(machine)
    plans = MaintenancePlan.objects.filter(
        is_active=True, interval_hours__isnull=False, meter__in={meter for _m, meter in recorded}
    ).filter(
        Q(scope=PlanScope.MACHINE, equipment_id__in=any_of(machines))
        | Q(scope=PlanScope.MODEL, product_model_id__in={models.get(m) for m in machines} - {None})
        | Q(scope=PlanScope.CONTRACT, contract_id__in=list(contracts))
    )
    plan_ids, equipment_ids, before_values = set(), set(), {}
    for plan in plans.values(
        "pk", "scope", "equipment_id", "product_model_id", "contract_id", "interval_hours", "meter"
    ):
        if plan["scope"] == PlanScope.MACHINE:
            covered = {plan["equipment_id"]}
        elif plan["scope"] == PlanScope.MODEL:
            covered = {m for m in machines if models.get(m) == plan["product_model_id"]}
        else:
            covered = contracts.get(plan["contract_id"], set())
        step = Decimal(plan["interval_hours"])
        for machine in covered:
            values = recorded.get((machine, plan["meter"]))
            if values is None or not step:
                continue
            before, now = values
            if before is not None and before // step < now // step:
                plan_ids.add(plan["pk"])
                equipment_ids.add(machine)
                before_values[(plan["meter"], machine)] = before
    if plan_ids:
        generate_due_visits(
            actor=None,
            today=today,
            plan_ids=sorted(plan_ids),
            equipment_ids=sorted(equipment_ids),
            meter_before=before_values,
        )


# --------------------------------------------------------------------------- incidents and orders


def _merge(fires: list[Fire]) -> dict[tuple[int, str], Fire]:
    merged: dict[tuple[int, str], Fire] = {}
    for fire in fires:
        known = merged.get((fire.equipment_id, fire.cause))
        if known is None:
            merged[(fire.equipment_id, fire.cause)] = fire
        else:
            known.count += fire.count
            known.evidence = (known.evidence + fire.evidence)[-EVIDENCE_LIMIT:]
            known.alarm_ids += fire.alarm_ids
    return merged


def _open_or_add(fires: list[Fire], now: dt.datetime) -> None:
    merged = _merge(fires)
    keys = sorted(merged)  # one order for the index's locks: two batches wait, never deadlock
    new = _claim(keys, merged, now)
    machines = {machine for machine, _cause in keys}
    if new:
        _open_orders([merged[key] for key in new], new, now)
    # Everything else adds to the incident that is open for it.
    again = [key for key in keys if key not in new]
    open_incidents = {}
    if again:
        for incident in (
            Incident.objects.select_for_update()
            .filter(equipment_id__in=any_of(machines), cause__in={c for _m, c in again}, closed_at__isnull=True)
            .order_by("equipment_id", "cause")
        ):
            open_incidents[(incident.equipment_id, incident.cause)] = incident
        _add_to(open_incidents, merged, now)
    # The alarms point at the order they opened or joined.
    by_order = defaultdict(list)
    for key in keys:
        incident = new.get(key) or open_incidents.get(key)
        if incident is not None and incident.work_order_id and merged[key].alarm_ids:
            by_order[incident.work_order_id] += merged[key].alarm_ids
    for order_id, alarm_ids in by_order.items():
        Alarm.objects.filter(pk__in=alarm_ids, work_order__isnull=True).update(work_order_id=order_id)


def _claim(keys, merged: dict[tuple[int, str], Fire], now: dt.datetime) -> dict[tuple[int, str], Incident]:
    """Open an incident for each cause that has none open; {key: incident} of those opened here.
    On PostgreSQL the insert meets a concurrent batch's on the partial unique index and waits for
    it: the row it committed wins, ours is skipped (ON CONFLICT DO NOTHING), and we add to it."""
    rows = [
        {
            "equipment_id": machine,
            "cause": cause,
            "opened_at": now,
            "fired": merged[(machine, cause)].count,
            "evidence": merged[(machine, cause)].evidence[-EVIDENCE_LIMIT:],
        }
        for machine, cause in keys
    ]
    if connection.vendor == "postgresql":
        order_ids = reserve_ids(Incident.work_order.field.related_model, len(rows))
        for row, order_id in zip(rows, order_ids, strict=True):
            row["work_order_id"] = order_id  # the order is written below, in this transaction
        written = set(
            insert_rows(
                Incident,
                rows,
                on_conflict="(equipment_id, cause) WHERE closed_at IS NULL DO NOTHING",
                returning="work_order_id",
            )
        )
        rows = [row for row in rows if row["work_order_id"] in written]
        incidents = Incident.objects.filter(work_order_id__in=any_of(written))
        by_key = {(i.equipment_id, i.cause): i for i in incidents}
        return {(row["equipment_id"], row["cause"]): by_key[(row["equipment_id"], row["cause"])] for row in rows}
    machines = {machine for machine, _cause in keys}
    taken = set(
        Incident.objects.filter(
            equipment_id__in=any_of(machines), cause__in={c for _m, c in keys}, closed_at__isnull=True
        ).values_list("equipment_id", "cause")
    )
    incidents = [Incident(**row) for row in rows if (row["equipment_id"], row["cause"]) not in taken]
    Incident.objects.bulk_create(incidents)
    return {(i.equipment_id, i.cause): i for i in incidents}


def _open_orders(fires: list[Fire], new: dict[tuple[int, str], Incident], now: dt.datetime) -> None:
    machines = Equipment.objects.in_bulk({fire.equipment_id for fire in fires})
    specs = []
    for fire in fires:
        incident = new[(fire.equipment_id, fire.cause)]
        if fire.cause.startswith("alarm:"):
            headline = _("Machine alarm %(code)s") % {"code": fire.title}
        else:
            headline = _("Threshold rule fired: %(rule)s") % {"rule": fire.title}
        description = "\n".join([headline, _("Readings: %(readings)s") % {"readings": _describe(fire.evidence)}])
        specs.append(
            ProactiveSpec(
                equipment=machines[fire.equipment_id],
                service_type=ServiceType.REPAIR,
                priority=fire.priority,
                description=description,
                note=headline[:200],
                channel=Channel.IOT,
                fault_category_id=fire.fault_category_id,
                order_id=incident.work_order_id,
            )
        )
    orders = open_proactive_orders(specs, actor=None, at=now)
    if connection.vendor != "postgresql":
        for fire, order in zip(fires, orders, strict=True):
            new[(fire.equipment_id, fire.cause)].work_order_id = order.pk
        Incident.objects.bulk_update(list(new.values()), ["work_order_id"])
    emit_many(
        [
            (ORDER_OPENED_TOPIC, {"work_order": order.pk, "cause": fire.cause}, f"iot:order_opened:{order.pk}")
            for fire, order in zip(fires, orders, strict=True)
            if fire.notify_customer
        ]
    )


def _add_to(open_incidents: dict[tuple[int, str], Incident], merged: dict[tuple[int, str], Fire], now) -> None:
    """The cause fired again: the open incident counts it and keeps the last readings; its order
    gets a service-log line, at most one every LOG_EVERY."""
    if not open_incidents:
        return
    for key, incident in open_incidents.items():
        fire = merged[key]
        incident.fired += fire.count
        incident.evidence = (list(incident.evidence) + fire.evidence)[-EVIDENCE_LIMIT:]
    Incident.objects.bulk_update(list(open_incidents.values()), ["fired", "evidence"])
    order_ids = {i.work_order_id for i in open_incidents.values() if i.work_order_id}
    recent = set(
        WorkOrderEvent.objects.filter(
            work_order_id__in=any_of(order_ids), action=FIRED_AGAIN, at__gt=now - LOG_EVERY
        ).values_list("work_order_id", flat=True)
    )
    log_events(
        [
            {
                "work_order_id": incident.work_order_id,
                "action": FIRED_AGAIN,
                "note": _("Fired again (%(count)s times in all): %(readings)s")
                % {"count": incident.fired, "readings": _describe(merged[key].evidence)},
                "payload": {"cause": incident.cause, "fired": incident.fired},
            }
            for key, incident in open_incidents.items()
            if incident.work_order_id and incident.work_order_id not in recent
        ],
        at=now,
    )


def _note_cleared(cleared: list[Alarm], now: dt.datetime) -> None:
    """A cleared alarm is noted on its open incident and on the incident's order."""
    by_key = {(a.equipment_id, f"alarm:{a.code}"): a for a in cleared}
    incidents = list(
        Incident.objects.select_for_update()
        .filter(
            equipment_id__in=any_of({m for m, _c in by_key}),
            cause__in={c for _m, c in by_key},
            closed_at__isnull=True,
        )
        .order_by("equipment_id", "cause")
    )
    incidents = [i for i in incidents if (i.equipment_id, i.cause) in by_key]
    if not incidents:
        return
    for incident in incidents:
        alarm = by_key[(incident.equipment_id, incident.cause)]
        entry = {"code": alarm.code, "cleared": True, "at": _moment(alarm.cleared_at)}
        incident.evidence = (list(incident.evidence) + [entry])[-EVIDENCE_LIMIT:]
    Incident.objects.bulk_update(incidents, ["evidence"])
    log_events(
        [
            {
                "work_order_id": incident.work_order_id,
                "action": ALARM_CLEARED,
                "note": _("Alarm %(code)s cleared by the machine at %(time)s")
                % {
                    "code": by_key[(incident.equipment_id, incident.cause)].code,
                    "time": timezone.localtime(by_key[(incident.equipment_id, incident.cause)].cleared_at).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                },
            }
            for incident in incidents
            if incident.work_order_id
        ],
        at=now,
    )


def on_orders_moved(moves: list[Move]) -> None:
    """An order completed, closed or cancelled closes its incident: the cause may open a new one."""
    ended = [move.order_id for move in moves if move.target in ENDED]
    if ended:
        Incident.objects.filter(work_order_id__in=any_of(ended), closed_at__isnull=True).update(
            closed_at=max(move.at for move in moves)
        )
