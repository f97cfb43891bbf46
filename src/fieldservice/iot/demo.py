"""Demo data for connected machines, through the product's own services: alarm codes and
threshold rules, a dispatch rule for the orders machines open, devices on a dozen machines (the
customer login's among them, and the machines the engineer login is visiting), a month of their
readings stored through `ingest` as if they had been published, and now:

- one of the customer login's machines in alarm (oil too hot, raised three times: one order, not
  three), whose proactive order the worker dispatches by the rule when it starts;
- one machine whose screw wears towards its limit (the forecast lists it);
- one gateway silent for hours (the offline list shows it).

`seed` runs after the dispatch rules, inside the demo's outbox hold (the worker delivers the
order's dispatch and the customer's notice when it starts). `fsm serve --demo-devices` keeps the
machines publishing (`fsm demo_devices`: `live_devices`, `live_fleet`): the worn machine goes on
wearing where its history left off, and one healthy machine after another overheats for a few
minutes, which raises an alarm, opens an order and clears again.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.customers.models import Customer
from fieldservice.dispatch import demo as dispatch_demo
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, RuleStrategy
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.iot.choices import DeviceKind, Door, RuleKind
from fieldservice.iot.models import Device, Incident
from fieldservice.iot.services import configuration
from fieldservice.iot.services.devices import issue_device
from fieldservice.iot.services.ingest import Envelope, ingest
from fieldservice.iot.simulation import METRICS, Drift, LiveMachine
from fieldservice.workorders.models import FaultCategory

MACHINES = 12  # at the demo's full scale; a small demo (the tests') has fewer and a shorter history
HISTORY_DAYS = 30
HISTORY_EVERY = dt.timedelta(hours=1)
LIVE_INTERVAL_SECONDS = 15  # between two messages of a demo device while the demo runs
EXPECTED_INTERVAL_SECONDS = 120  # silent longer than this: offline
SILENT_SUFFIX = " 仓库网关"  # the device the demo keeps silent (the offline list's example)
SILENT_HOURS = 3
# The worn machine: its screw started wearing 24 days before the demo was loaded and reaches the
# limit 12 days after.
WEAR_ONSET = dt.timedelta(days=24)
WEAR_FAILURE = dt.timedelta(days=12)
# Live: every OVERHEAT_EVERY another healthy machine's oil heats up to its limit in
# OVERHEAT_RISE, stays there OVERHEAT_HOLD, then cools down (the alarm clears).
OVERHEAT_FIRST = dt.timedelta(minutes=1)
OVERHEAT_EVERY = dt.timedelta(minutes=12)
OVERHEAT_RISE = dt.timedelta(minutes=2)
OVERHEAT_HOLD = dt.timedelta(minutes=6)

# code: description, fault category code, priority, tell the customer
ALARM_CODES = {
    "TEMPERATURE_HIGH": ("液压油温过高", "hyd-oil-temp", "high", True),
    "VIBRATION_HIGH": ("油泵振动过大", "hyd-pump-noise", "high", False),
    "WEAR_HIGH": ("螺杆磨损接近极限", "mec-screw", "high", False),
    "E105": ("伺服驱动器报警", "servo-alarm", "high", False),
    "E112": ("加热圈断路", "ele-heater", "high", False),
    "E120": ("热电偶开路", "ele-thermocouple", "normal", False),
    "E131": ("操作屏通讯中断", "ctl-hmi", "normal", False),
}
# name, metric, kind, value, minutes, fault category code, priority
THRESHOLD_RULES = [
    ("液压油温高于 95°C 持续 10 分钟", "temperature", RuleKind.ABOVE, 95.0, 10, "hyd-oil-temp", "high"),
    ("振动高于 11.2 mm/s 持续 10 分钟", "vibration", RuleKind.ABOVE, 11.2, 10, "hyd-pump-noise", "high"),
    ("螺杆磨损达到 80%", "wear", RuleKind.ABOVE, 80.0, 1, "mec-screw", "normal"),
]
DISPATCH_RULE = "设备告警工单 → 最佳匹配"


@dataclass(frozen=True)
class Overheating(Drift):
    """A healthy metric that, from `first` on and every `period`, rises to just above its
    threshold in `rise`, stays there `hold`, then drops back to its baseline."""

    first: dt.datetime | None = None
    period: dt.timedelta = dt.timedelta(hours=1)
    rise: dt.timedelta = OVERHEAT_RISE
    hold: dt.timedelta = OVERHEAT_HOLD

    def level(self, at: dt.datetime) -> float:
        if self.first is None or at < self.first:
            return self.baseline
        phase = (at - self.first) % self.period
        if phase < self.rise:
            share = (phase / self.rise) ** self.shape
        elif phase < self.rise + self.hold:
            share = 1.03
        else:
            return self.baseline
        return self.baseline + (self.threshold - self.baseline) * share


def _baseline_drift(serial: str, metric: str) -> Drift:
    """A healthy machine's metric: its own baseline and noise, by its serial number."""
    rng = random.Random(f"demo:{serial}:{metric}")
    unit, baseline, threshold = METRICS[metric]
    baseline *= rng.uniform(0.85, 1.1)
    noise = (threshold - baseline) * rng.uniform(0.015, 0.03)
    return Drift(metric, unit, baseline, threshold, None, None, noise)


def _wear_drift(serial: str, anchor: dt.datetime) -> Drift:
    healthy = _baseline_drift(serial, "wear")
    return Drift(
        "wear",
        healthy.unit,
        healthy.baseline,
        healthy.threshold,
        anchor - WEAR_ONSET,
        anchor + WEAR_FAILURE,
        healthy.noise / 2,
    )


def worn_machine(serials: list[str]) -> str:
    """The machine whose screw wears: one of the live machines, the same one whenever asked."""
    return min(serials, key=lambda serial: (zlib.crc32(serial.encode()), serial))


# --------------------------------------------------------------------------- seed


def history_days(scale: float) -> int:
    """Days of readings: a month, or two weeks in a small demo (enough for the forecast's fit)."""
    return HISTORY_DAYS if scale >= 0.5 else 15


def seed(*, rng: random.Random, admin: User, now: dt.datetime | None = None, scale: float = 1.0) -> None:
    """The demo's connected machines (see the module's doc)."""
    now = now or timezone.now()
    categories = {c.code: c for c in FaultCategory.objects.filter(code__in=_category_codes())}
    for code, (description, category, priority, notify) in ALARM_CODES.items():
        configuration.create_alarm_mapping(
            actor=admin,
            code=code,
            description=description,
            fault_category=categories.get(category),
            priority=priority,
            notify_customer=notify,
        )
    for name, metric, kind, value, minutes, category, priority in THRESHOLD_RULES:
        configuration.create_threshold_rule(
            actor=admin,
            name=name,
            metric=metric,
            kind=kind,
            value=value,
            window_minutes=minutes,
            fault_category=categories.get(category),
            priority=priority,
        )
    _dispatch_rule(admin)
    groups, visited = _machine_groups(rng, max(5, round(MACHINES * min(scale, 1.0))))
    if not groups:
        return
    tokens: dict[str, str] = {}
    devices: list[tuple[Device, list[Equipment]]] = []
    for name, kind, machines in groups:
        device, token = issue_device(
            actor=admin,
            name=name,
            customer=machines[0].customer,
            machines=machines,
            kind=kind,
            expected_interval_seconds=EXPECTED_INTERVAL_SECONDS,
        )
        tokens[device.prefix] = token
        devices.append((device, machines))
    live = [m.serial_number for d, ms in devices if not d.name.endswith(SILENT_SUFFIX) for m in ms]
    worn = worn_machine(live)
    _history(devices, tokens, worn=worn, now=now, rng=rng, days=history_days(scale))
    # A machine the engineer login is visiting (his colleagues cover its area), else any.
    in_alarm = next((s for s in [*visited, *live] if s != worn), live[0])
    _alarm_now(devices, tokens, in_alarm, now=now)


def _dispatch_rule(admin: User) -> None:
    """Orders machines open go to the best engineer of ours, tried right after the partner
    provider's cities (which our engineers do not cover) and before every other rule."""
    rule = rule_services.create_rule(
        actor=admin,
        name=DISPATCH_RULE,
        conditions={"channel": ["iot"]},
        strategy=RuleStrategy.BEST_MATCH,
        weights={"skill": 4, "distance": 3, "load": 2, "last_engineer": 2, "rating": 1},
    )
    provider_rule = DispatchRule.objects.filter(name=dispatch_demo.PROVIDER_RULE).first()
    stop_after = provider_rule.position if provider_rule is not None else 0
    while DispatchRule.objects.filter(position__gt=stop_after, position__lt=rule.position).exists():
        rule = rule_services.move_rule(rule, actor=admin, direction="up")


def _category_codes() -> set[str]:
    return {row[1] for row in ALARM_CODES.values()} | {row[5] for row in THRESHOLD_RULES}


def _machine_groups(rng: random.Random, count: int) -> tuple[list[tuple[str, str, list[Equipment]]], list[str]]:
    """[(device name, kind, machines)] and the serial numbers of the machines the engineer login
    is visiting: a gateway for the customer login's machines first, a
    device of its own for each machine the engineer login is visiting and for a few more, and
    the silent gateway last."""
    candidates = Equipment.objects.filter(status=EquipmentStatus.REGISTERED, parent__isnull=True).select_related(
        "customer"
    )
    groups: list[tuple[str, str, list[Equipment]]] = []
    taken: set[int] = set()
    customer_user = User.objects.filter(username="customer").first()
    customer = Customer.objects.filter(organisation=getattr(customer_user, "organisation", None)).first()
    if customer is not None:
        own = list(candidates.filter(customer=customer).order_by("serial_number")[:3])
        if own:
            groups.append((f"{customer.name} 车间网关", DeviceKind.GATEWAY, own))
            taken.update(m.pk for m in own)
    visited = (
        Assignment.objects.filter(engineer__username="engineer", status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .exclude(work_order__equipment_id__in=taken)
        .values_list("work_order__equipment_id", flat=True)
    )
    visited_serials = []
    for machine in candidates.filter(pk__in=list(visited)).order_by("serial_number")[:2]:
        visited_serials.append(machine.serial_number)
        groups.append((f"{machine.serial_number} 数据终端", DeviceKind.MACHINE, [machine]))
        taken.add(machine.pk)
    others = list(candidates.exclude(pk__in=taken).order_by("pk").values_list("pk", flat=True))
    wanted = max(2, count - len(taken))  # two at least: one publishing, one silent
    picked = Equipment.objects.in_bulk(rng.sample(others, min(wanted, len(others))))
    chosen = sorted(picked.values(), key=lambda m: m.serial_number)
    for machine in chosen[:-1] if len(chosen) > 1 else chosen:
        groups.append((f"{machine.serial_number} 数据终端", DeviceKind.MACHINE, [machine]))
    if len(chosen) > 1:
        machine = chosen[-1]
        groups.append((f"{machine.customer.name}{SILENT_SUFFIX}", DeviceKind.GATEWAY, [machine]))
    return groups, visited_serials


def _readings(machine: str, drifts: list[Drift], at: dt.datetime, rng: random.Random) -> list[dict]:
    return [
        {"machine": machine, "metric": d.metric, "value": d.value(at, rng), "unit": d.unit, "at": at.isoformat()}
        for d in drifts
    ]


def _history(devices, tokens: dict[str, str], *, worn: str, now: dt.datetime, rng: random.Random, days: int) -> None:
    """`days` of readings, every HISTORY_EVERY, stored a day at a time through `ingest`, as the
    devices would have published them (the silent gateway stops SILENT_HOURS ago)."""
    drifts = {
        m.serial_number: [
            _wear_drift(m.serial_number, now)
            if metric == "wear" and m.serial_number == worn
            else _baseline_drift(m.serial_number, metric)
            for metric in METRICS
        ]
        for _device, machines in devices
        for m in machines
    }
    start = now - dt.timedelta(days=days)
    at = start
    batch: list[Envelope] = []
    while at < now:
        for device, machines in devices:
            if device.name.endswith(SILENT_SUFFIX) and at > now - dt.timedelta(hours=SILENT_HOURS):
                continue
            readings = [r for m in machines for r in _readings(m.serial_number, drifts[m.serial_number], at, rng)]
            batch.append(Envelope(Door.HTTP, {"readings": readings}, token=tokens[device.prefix]))
        at += HISTORY_EVERY
        if at.date() != (at - HISTORY_EVERY).date() or at >= now:
            _store(batch, now=min(at, now))
            batch = []


def _store(batch: list[Envelope], *, now: dt.datetime) -> None:
    outcomes = ingest(batch, now=now)
    refused = [o for o in outcomes if not o.ok]
    if refused:  # the demo's own messages: a refusal is a bug in this module
        raise RuntimeError(f"demo readings refused: {refused[0].reason} {refused[0].detail}")


def _alarm_now(devices, tokens: dict[str, str], serial: str, *, now: dt.datetime) -> None:
    """The machine's oil heats up over the last 20 minutes and it raises TEMPERATURE_HIGH three
    times: one incident, one order."""
    device = next(d for d, ms in devices if any(m.serial_number == serial for m in ms))
    rise = [(20, 89.4), (14, 93.8), (11, 94.6), (6, 96.1), (3, 96.6), (1, 96.9)]
    for minutes, value in rise:
        at = now - dt.timedelta(minutes=minutes)
        body = {"readings": [{"machine": serial, "metric": "temperature", "value": value, "unit": "°C",
                              "at": at.isoformat()}]}  # fmt: skip
        if minutes in (11, 6, 1):
            body["alarms"] = [
                {
                    "machine": serial,
                    "code": "TEMPERATURE_HIGH",
                    "state": "raised",
                    "severity": "critical" if value > 95 else "warning",
                    "message": f"oil {value} °C",
                    "at": at.isoformat(),
                }
            ]
        _store([Envelope(Door.HTTP, body, token=tokens[device.prefix])], now=at + dt.timedelta(seconds=5))


# --------------------------------------------------------------------------- while the demo runs


def live_devices() -> QuerySet[Device]:
    """The demo's devices that publish while it runs (all but the silent gateway)."""
    return (
        Device.objects.filter(revoked_at__isnull=True)
        .exclude(name__endswith=SILENT_SUFFIX)
        .prefetch_related("machines")
        .order_by("pk")
    )


def live_fleet(devices: list[Device], *, started: dt.datetime) -> dict[str, list[LiveMachine]]:
    """{device prefix: its machines, alive}: each at its own healthy level, the worn machine
    wearing on from where its history left off (anchored at the device's issue), and every
    OVERHEAT_EVERY, from OVERHEAT_FIRST after `started`, another healthy machine overheating."""
    serials = sorted(m.serial_number for device in devices for m in device.machines.all())
    if not serials:
        return {}
    worn = worn_machine(serials)
    anchor = min(device.created_at for device in devices)
    turns = [s for s in serials if s != worn]
    random.Random(started.isoformat()).shuffle(turns)
    period = OVERHEAT_EVERY * max(len(turns), 1)
    fleet: dict[str, list[LiveMachine]] = {}
    for device in devices:
        machines = []
        for machine in sorted(device.machines.all(), key=lambda m: m.serial_number):
            serial = machine.serial_number
            drifts = []
            for metric in METRICS:
                drift = _baseline_drift(serial, metric)
                if metric == "wear" and serial == worn:
                    drift = _wear_drift(serial, anchor)
                elif metric == "temperature" and serial in turns:
                    first = started + OVERHEAT_FIRST + OVERHEAT_EVERY * turns.index(serial)
                    drift = Overheating(
                        **{**drift.__dict__, "first": first, "period": period},
                        rise=OVERHEAT_RISE,
                        hold=OVERHEAT_HOLD,
                    )
                drifts.append(drift)
            machines.append(LiveMachine(serial, zlib.crc32(serial.encode()), started, 1.0, drifts,
                                        random.Random(f"live:{serial}:{started.isoformat()}")))  # fmt: skip
        fleet[device.prefix] = machines
    return fleet


def walkthrough() -> list[str]:
    """Where the connected machines' walk-through starts (the demo prints it)."""
    devices = list(live_devices())
    if not devices:
        return []
    lines = []
    incident = (
        Incident.objects.filter(closed_at__isnull=True, work_order__isnull=False)
        .select_related("equipment", "work_order")
        .order_by("opened_at")
        .first()
    )
    if incident is not None:
        lines.append(
            f"{incident.equipment.serial_number} is in alarm and opened {incident.work_order.number} (/iot/alarms/)"
        )
    serials = [m.serial_number for device in devices for m in device.machines.all()]
    lines.append(f"{worn_machine(serials)} wears towards its limit (/iot/forecast/)")
    silent = Device.objects.filter(name__endswith=SILENT_SUFFIX).prefetch_related("machines").first()
    if silent is not None:
        lines += [f"{m.serial_number} is offline (/iot/offline/)" for m in silent.machines.all()]
    lines.append("`./dev demo` keeps the other machines publishing (fsm serve --demo-devices)")
    return lines
