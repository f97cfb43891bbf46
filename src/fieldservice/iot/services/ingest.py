"""The one path for what devices send, whichever door it came through (MQTT or HTTP).

A batch of envelopes is stored in one transaction. Each envelope (one message) is checked whole
before anything of it is written: an unknown device, wrong credentials, a malformed payload, a
machine the device does not serve, a time far in the future or past the retention refuses the
whole message, which is counted (`Rejection`) and never half-stored. What passes is written
set-based: the readings (once per machine, metric and moment, so a redelivered message stores
nothing twice), the latest value of each metric, the machine's presence, the alarms raised and
cleared; then the `iot.hooks.on_ingested` hooks (the rules) run in the same transaction.

The wire format is in docs/IOT.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.core.db import any_of, insert_rows, staged_rows
from fieldservice.iot import hooks, partitions
from fieldservice.iot.choices import DeviceKind, RejectReason, Severity
from fieldservice.iot.models import METRIC_LENGTH, Alarm, Device, LatestValue, Presence, Reading, Rejection
from fieldservice.iot.services.devices import PREFIX_LENGTH, digest, prefix_of

MAX_ITEMS = 5000  # readings and alarms in one message
MAX_BYTES = 1_000_000
NAME = re.compile(rf"^[A-Za-z0-9_.:/-]{{1,{METRIC_LENGTH}}}$")


def max_clock_skew() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "FSM_IOT_MAX_CLOCK_SKEW_SECONDS", 300)))


@dataclass
class Envelope:
    """One message as a door received it. MQTT: the token is in the payload and the topic names
    the device's prefix; HTTP: the token comes from the Authorization header."""

    door: str
    payload: bytes | str | dict
    token: str | None = None
    topic_prefix: str | None = None


@dataclass
class Outcome:
    """What became of one envelope: stored (with counts), or refused with a reason and detail."""

    ok: bool
    reason: str = ""
    detail: str = ""
    readings: int = 0
    alarms: int = 0


class RefusedError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason, self.detail = reason, detail


@dataclass
class _Parsed:
    device: Device
    readings: list[tuple[int, str, dt.datetime, float, str]] = field(default_factory=list)
    alarms: list[tuple[int, str, str, str, str, dt.datetime]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)  # machines heard from (a heartbeat names them too)
    last_at: dt.datetime | None = None


def _load(payload) -> dict:
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, bytes | bytearray) and len(payload) > MAX_BYTES:
        raise RefusedError(RejectReason.MALFORMED, "message larger than 1 MB")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise RefusedError(RejectReason.MALFORMED, f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise RefusedError(RejectReason.MALFORMED, "the message must be a JSON object")
    return data


def _bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The latest and the earliest time a reading may have (read once per message)."""
    return now + max_clock_skew(), now - dt.timedelta(days=partitions.retention_days())


def _moment(value, where: str, now: dt.datetime, seen: dict | None = None, bounds=None) -> dt.datetime:
    """The time an item names, checked against now (`bounds`: `_bounds(now)`, worked out once).
    `seen`: the times of the batch already parsed (the readings of one message mostly share a
    few), by their text."""
    if seen is not None and isinstance(value, str):
        moment = seen.get(value)
        if moment is not None:
            return moment
    if not isinstance(value, str):
        raise RefusedError(RejectReason.MALFORMED, f"{where}.at: an ISO 8601 time with its zone")
    try:
        # The C parser first (most devices send the one common form), Django's for the rest.
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise RefusedError(RejectReason.MALFORMED, f"{where}.at: an ISO 8601 time with its zone")
    latest, earliest = bounds or _bounds(now)
    if moment > latest:
        raise RefusedError(RejectReason.IN_FUTURE, f"{where}.at: {value} is in the future")
    if moment < earliest:
        raise RefusedError(RejectReason.TOO_OLD, f"{where}.at: {value} is older than the retention")
    if seen is not None:
        seen[value] = moment
    return moment


def _text(item: dict, key: str, where: str, *, limit: int, required: bool = False, pattern=None) -> str:
    value = item.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise RefusedError(RejectReason.MALFORMED, f"{where}.{key}: text of at most {limit} characters")
    if pattern is not None and not pattern.match(value):
        raise RefusedError(RejectReason.MALFORMED, f"{where}.{key}: letters, digits and _ . : / - only")
    return value


class _Machines:
    """The serial numbers a device may report for, read once per batch."""

    def __init__(self, devices: list[Device]):
        self.by_device: dict[int, dict[str, int]] = defaultdict(dict)
        through = Device.machines.through
        rows = through.objects.filter(
            device_id__in=[d.pk for d in devices], equipment__status=EquipmentStatus.REGISTERED
        ).values_list("device_id", "equipment_id", "equipment__serial_number")
        for device_id, equipment_id, serial in rows:
            self.by_device[device_id][serial] = equipment_id

    def resolve(self, device: Device, serial, where: str) -> int:
        served = self.by_device.get(device.pk, {})
        if serial in (None, ""):
            if device.kind == DeviceKind.MACHINE and len(served) == 1:
                return next(iter(served.values()))
            raise RefusedError(RejectReason.MALFORMED, f"{where}.machine: name the machine's serial number")
        if not isinstance(serial, str) or serial not in served:
            raise RefusedError(RejectReason.NOT_ITS_MACHINE, f"{where}.machine: {str(serial)[:60]} is not served")
        return served[serial]


def _parse(data: dict, device: Device, machines: _Machines, now: dt.datetime, moments: dict | None = None) -> _Parsed:
    parsed = _Parsed(device)
    bounds = _bounds(now)
    default_machine = data.get("machine")
    readings, alarms = data.get("readings", []), data.get("alarms", [])
    if not isinstance(readings, list) or not isinstance(alarms, list):
        raise RefusedError(RejectReason.MALFORMED, "readings and alarms are lists")
    if len(readings) + len(alarms) > MAX_ITEMS:
        raise RefusedError(RejectReason.MALFORMED, f"at most {MAX_ITEMS} readings and alarms in one message")
    unknown = set(data) - {"token", "machine", "readings", "alarms", "heartbeat"}
    if unknown:
        raise RefusedError(RejectReason.MALFORMED, f"unknown field {sorted(unknown)[0]!r}")
    for n, item in enumerate(readings):
        where = f"readings[{n}]"
        if not isinstance(item, dict):
            raise RefusedError(RejectReason.MALFORMED, f"{where}: an object")
        machine = machines.resolve(device, item.get("machine", default_machine), where)
        metric = _text(item, "metric", where, limit=METRIC_LENGTH, required=True, pattern=NAME)
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise RefusedError(RejectReason.MALFORMED, f"{where}.value: a finite number")
        unit = _text(item, "unit", where, limit=16)
        moment = _moment(item.get("at"), where, now, moments, bounds)
        parsed.readings.append((machine, metric, moment, float(value), unit))
        parsed.seen.add(machine)
    for n, item in enumerate(alarms):
        where = f"alarms[{n}]"
        if not isinstance(item, dict):
            raise RefusedError(RejectReason.MALFORMED, f"{where}: an object")
        machine = machines.resolve(device, item.get("machine", default_machine), where)
        code = _text(item, "code", where, limit=METRIC_LENGTH, required=True, pattern=NAME)
        state = item.get("state", "raised")
        if state not in ("raised", "cleared"):
            raise RefusedError(RejectReason.MALFORMED, f"{where}.state: raised or cleared")
        severity = item.get("severity", Severity.WARNING)
        if severity not in Severity.values:
            raise RefusedError(RejectReason.MALFORMED, f"{where}.severity: one of {', '.join(Severity.values)}")
        message = _text(item, "message", where, limit=300)
        moment = _moment(item.get("at"), where, now, moments, bounds)
        parsed.alarms.append((machine, code, state, severity, message, moment))
        parsed.seen.add(machine)
    heartbeat = data.get("heartbeat")
    if heartbeat not in (None, True, False):
        raise RefusedError(RejectReason.MALFORMED, "heartbeat: true or false")
    if heartbeat or not (readings or alarms):
        # A message with nothing in it is a heartbeat for the machine(s) it names, or all it serves.
        if default_machine not in (None, ""):
            parsed.seen.add(machines.resolve(device, default_machine, "message"))
        else:
            parsed.seen.update(machines.by_device.get(device.pk, {}).values())
    moments = [r[2] for r in parsed.readings] + [a[5] for a in parsed.alarms]
    parsed.last_at = max(moments) if moments else now
    return parsed


def _authenticate(envelopes: list[Envelope], loaded: list) -> dict[str, Device]:
    """The devices the batch's tokens name, by prefix, read in one query."""
    prefixes = set()
    for envelope, data in zip(envelopes, loaded, strict=True):
        token = envelope.token if envelope.token is not None else (data or {}).get("token")
        if isinstance(token, str):
            prefixes.add(prefix_of(token))
    return {device.prefix: device for device in Device.objects.filter(prefix__in=prefixes)}


def _check_device(envelope: Envelope, data: dict, devices: dict[str, Device]) -> Device:
    token = envelope.token if envelope.token is not None else data.get("token")
    if not isinstance(token, str) or len(token) <= PREFIX_LENGTH:
        raise RefusedError(RejectReason.BAD_CREDENTIALS, "no device token")
    device = devices.get(prefix_of(token))
    if device is None:
        raise RefusedError(RejectReason.UNKNOWN_DEVICE, "no device has this token")
    if device.digest != digest(token):
        raise RefusedError(RejectReason.BAD_CREDENTIALS, "wrong token")
    if envelope.topic_prefix is not None and envelope.topic_prefix != device.prefix:
        raise RefusedError(RejectReason.BAD_CREDENTIALS, "the topic names another device")
    if device.revoked_at is not None:
        raise RefusedError(RejectReason.REVOKED, "the device's credentials are revoked")
    return device


def ingest(envelopes: list[Envelope], *, now: dt.datetime | None = None) -> list[Outcome]:
    """Store a batch of messages in one transaction; one Outcome per envelope, in order."""
    now = now or timezone.now()
    loaded: list[dict | None] = []
    outcomes: list[Outcome | None] = []
    for envelope in envelopes:
        try:
            loaded.append(_load(envelope.payload))
            outcomes.append(None)
        except RefusedError as refused:
            loaded.append(None)
            outcomes.append(Outcome(False, refused.reason, refused.detail))
    with transaction.atomic():
        devices = _authenticate(envelopes, loaded)
        machines = _Machines(list(devices.values()))
        accepted: list[_Parsed] = []
        moments: dict[str, dt.datetime] = {}
        rejections: list[tuple[Envelope, str, str, str]] = []
        for index, (envelope, data) in enumerate(zip(envelopes, loaded, strict=True)):
            if data is None:
                # Not JSON: only the HTTP door knows whom it claims to be from (its header).
                claimed = prefix_of(envelope.token) if isinstance(envelope.token, str) else ""
                rejections.append((envelope, outcomes[index].reason, outcomes[index].detail, claimed))
                continue
            try:
                device = _check_device(envelope, data, devices)
                parsed = _parse(data, device, machines, now, moments)
            except RefusedError as refused:
                token = envelope.token if envelope.token is not None else data.get("token")
                claimed = prefix_of(token) if isinstance(token, str) else ""
                outcomes[index] = Outcome(False, refused.reason, refused.detail)
                rejections.append((envelope, refused.reason, refused.detail, claimed))
                continue
            accepted.append(parsed)
            outcomes[index] = Outcome(True, readings=len(parsed.readings), alarms=len(parsed.alarms))
        if accepted:
            _store(accepted, now)
        if rejections:
            _count_rejections(rejections, now)
    return outcomes


def _store(batch: list[_Parsed], now: dt.datetime) -> None:
    readings: dict[tuple[int, str, dt.datetime], tuple[float, str]] = {}
    for parsed in batch:
        for machine, metric, moment, value, unit in parsed.readings:
            readings.setdefault((machine, metric, moment), (value, unit))  # the first of two the same
    changes = hooks.Changes(now=now)
    if readings:
        partitions.ensure_months({moment for _m, _metric, moment in readings})
        rows = [
            {"equipment_id": m, "metric": metric, "at": at, "value": value, "unit": unit}
            for (m, metric, at), (value, unit) in readings.items()
        ]
        if connection.vendor == "postgresql":
            _store_staged(rows)
        else:
            insert_rows(Reading, rows, on_conflict="DO NOTHING")
            _latest(readings)
        changes.readings = [(m, metric, at, value) for (m, metric, at), (value, _unit) in readings.items()]
    _presence(batch)
    _alarms(batch, changes)
    hooks.ingested(changes)


def _store_staged(rows: list[dict]) -> None:
    """PostgreSQL: the readings go in once, by COPY, into a staging table; from there into the
    readings (a redelivered one skipped) and, the newest of each machine and metric, into the
    latest values where the stored one is older. In one order (machine, metric): two processes
    writing the same machines wait, never deadlock."""
    latest = connection.ops.quote_name(LatestValue._meta.db_table)
    with staged_rows(Reading, rows) as (staging, columns), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(Reading._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            f"INSERT INTO {latest} (equipment_id, metric, value, unit, at) "  # noqa: S608
            f"SELECT DISTINCT ON (equipment_id, metric) equipment_id, metric, value, unit, at FROM {staging} "
            "ORDER BY equipment_id, metric, at DESC "
            "ON CONFLICT (equipment_id, metric) DO UPDATE SET value = excluded.value, unit = excluded.unit, "
            f"at = excluded.at WHERE {latest}.at < excluded.at"
        )


def _latest(readings: dict) -> None:
    """Elsewhere (SQLite): keep each metric's newest value, written where the stored one is older,
    or missing."""
    newest: dict[tuple[int, str], tuple[dt.datetime, float, str]] = {}
    for (machine, metric, at), (value, unit) in readings.items():
        known = newest.get((machine, metric))
        if known is None or at > known[0]:
            newest[(machine, metric)] = (at, value, unit)
    table = LatestValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (equipment_id, metric, value, unit, at) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (equipment_id, metric) DO UPDATE SET value = excluded.value, unit = excluded.unit, "
            f"at = excluded.at WHERE {table}.at < excluded.at",
            [(machine, metric, value, unit, at) for (machine, metric), (at, value, unit) in sorted(newest.items())],
        )


def _presence(batch: list[_Parsed]) -> None:
    """The machines heard from, and their devices: last seen moves on, never back."""
    seen: dict[int, tuple[dt.datetime, Device]] = {}
    devices: dict[int, tuple[dt.datetime, Device]] = {}
    for parsed in batch:
        for machine in parsed.seen:
            known = seen.get(machine)
            if known is None or parsed.last_at > known[0]:
                seen[machine] = (parsed.last_at, parsed.device)
        known = devices.get(parsed.device.pk)
        if known is None or parsed.last_at > known[0]:
            devices[parsed.device.pk] = (parsed.last_at, parsed.device)
    table = Presence._meta.db_table
    rows = [
        (machine, device.pk, at, device.expected_interval_seconds) for machine, (at, device) in sorted(seen.items())
    ]
    upsert = (
        "ON CONFLICT (equipment_id) DO UPDATE SET device_id = excluded.device_id, "
        "expected_interval_seconds = excluded.expected_interval_seconds, "
        f"last_seen_at = excluded.last_seen_at WHERE {table}.last_seen_at < excluded.last_seen_at"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (equipment_id, device_id, last_seen_at, expected_interval_seconds) "  # noqa: S608
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::integer[]) " + upsert,
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} (equipment_id, device_id, last_seen_at, expected_interval_seconds) "  # noqa: S608
                "VALUES (%s, %s, %s, %s) " + upsert,
                rows,
            )
    for pk, (at, _device) in sorted(devices.items()):
        Device.objects.filter(pk=pk).filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=at)).update(
            last_seen_at=at
        )


def _alarms(batch: list[_Parsed], changes: hooks.Changes) -> None:
    """Raise and clear, in the order they happened. An alarm raised while the same one is open is
    a repeat of it; a clear with nothing open is nothing to do; a message seen twice changes
    nothing the second time (a raise already stored, a clear already applied)."""
    events = sorted(
        (
            (moment, machine, code, state, severity, message, parsed.device.pk)
            for parsed in batch
            for machine, code, state, severity, message, moment in parsed.alarms
        ),
        key=lambda e: (e[1], e[2], e[0], e[3] == "raised"),
    )
    if not events:
        return
    keys = {(machine, code) for _at, machine, code, *_rest in events}
    machines = {machine for machine, _code in keys}
    # The machines' rows are the lock (in one order): two batches raising the same alarm at once
    # take turns, and the second sees the first's open alarm.
    list(Equipment.objects.select_for_update().filter(pk__in=any_of(machines)).order_by("pk").values_list("pk"))
    # Locked in one order (machine, code), so two batches about one machine wait for each other.
    open_alarms = {
        (a.equipment_id, a.code): a
        for a in Alarm.objects.select_for_update()
        .filter(equipment_id__in=any_of(machines), cleared_at__isnull=True)
        .order_by("equipment_id", "code")
        if (a.equipment_id, a.code) in keys
    }
    known = set(
        Alarm.objects.filter(equipment_id__in=any_of(machines), code__in={code for _m, code in keys}).values_list(
            "equipment_id", "code", "raised_at"
        )
    )
    cleared_at: dict[tuple[int, str], set] = defaultdict(set)
    for alarm in Alarm.objects.filter(
        equipment_id__in=any_of(machines), cleared_at__isnull=False, code__in={code for _m, code in keys}
    ).values_list("equipment_id", "code", "cleared_at"):
        cleared_at[(alarm[0], alarm[1])].add(alarm[2])
    repeated: dict[int, Alarm] = {}
    for at, machine, code, state, severity, message, device_id in events:
        key = (machine, code)
        current = open_alarms.get(key)
        if state == "raised":
            if (machine, code, at) in known:
                continue  # this very raise is stored (a redelivery)
            known.add((machine, code, at))
            if current is not None:
                if at > current.raised_at:
                    repeated[current.pk] = current
                    current.repeats += 1
                    current.severity = _worse(current.severity, severity)
                continue
            alarm = Alarm.objects.create(
                equipment_id=machine, device_id=device_id, code=code, severity=severity, message=message, raised_at=at
            )
            open_alarms[key] = alarm
            changes.raised.append(alarm)
        else:
            if current is None or at < current.raised_at or at in cleared_at[key]:
                continue
            current.cleared_at = at
            current.save(update_fields=["cleared_at"])
            del open_alarms[key]
            cleared_at[key].add(at)
            changes.cleared.append(current)
    for alarm in repeated.values():
        if alarm.cleared_at is None:
            Alarm.objects.filter(pk=alarm.pk).update(repeats=alarm.repeats, severity=alarm.severity)
            changes.repeated.append(alarm)


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _worse(a: str, b: str) -> str:
    return a if SEVERITY_RANK.get(a, 0) >= SEVERITY_RANK.get(b, 0) else b


def _count_rejections(rejections, now: dt.datetime) -> None:
    counts: dict[tuple[str, str, str], list] = {}
    for envelope, reason, detail, prefix in rejections:
        key = (envelope.door, reason, prefix[:PREFIX_LENGTH])
        entry = counts.setdefault(key, [0, ""])
        entry[0] += 1
        entry[1] = detail[:300]
    day = timezone.localdate(now)
    table = Rejection._meta.db_table
    # One upsert per (day, door, reason, device): concurrent batches add to the same row.
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (day, door, reason, device_prefix, count, last_detail) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (day, door, reason, device_prefix) "
            f"DO UPDATE SET count = {table}.count + excluded.count, last_detail = excluded.last_detail",
            [(day, *key, count, detail) for key, (count, detail) in sorted(counts.items())],
        )


def count_refused(door: str, token: str | None, reason: str, detail: str, *, count: int = 1, now=None) -> None:
    """Count what a door refused before it had messages to hand over (an HTTP body too large, or
    not shaped as messages): counted as the path's own refusals are."""
    claimed = prefix_of(token) if isinstance(token, str) else ""
    envelope = Envelope(door, b"", token=token)
    with transaction.atomic():
        _count_rejections([(envelope, reason, detail, claimed)] * count, now or timezone.now())
