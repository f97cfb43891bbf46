"""The one ingest path: a message is stored whole or refused whole (and counted), once however
often it is delivered; the latest values, the presence and the alarms follow."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.iot import hooks
from fieldservice.iot.choices import RejectReason
from fieldservice.iot.models import Alarm, LatestValue, Presence, Reading, Rejection
from fieldservice.iot.services.devices import revoke_device
from fieldservice.iot.services.ingest import ingest
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ago(minutes):
    return NOW - dt.timedelta(minutes=minutes)


def test_readings_are_stored_once_and_the_latest_kept(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    body = {"readings": [iot.reading(value=20.5, at=ago(2)), iot.reading(value=21.0, at=ago(1))]}

    first = ingest([iot.mqtt(token, **body)], now=NOW)
    again = ingest([iot.mqtt(token, **body)], now=NOW)  # redelivered

    assert first[0].ok and first[0].readings == 2 and again[0].ok
    assert sorted(Reading.objects.filter(equipment=machine).values_list("value", flat=True)) == [20.5, 21.0]
    latest = LatestValue.objects.get(equipment=machine, metric="temperature")
    assert (latest.value, latest.at, latest.unit) == (21.0, ago(1), "°C")
    # An older reading arriving late does not move the latest value back.
    ingest([iot.http(token, readings=[iot.reading(value=5.0, at=ago(30))])], now=NOW)
    assert LatestValue.objects.get(equipment=machine).value == 21.0
    presence = Presence.objects.get(equipment=machine)
    assert presence.last_seen_at == ago(1) and presence.device_id == device.pk
    device.refresh_from_db()
    assert device.last_seen_at == ago(1)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"readings": [{"metric": "t", "value": "hot", "at": NOW.isoformat()}]}, RejectReason.MALFORMED),
        ({"readings": [{"metric": "t", "value": 1, "at": "yesterday"}]}, RejectReason.MALFORMED),
        (
            {"readings": [{"metric": "t", "value": 1, "at": NOW.replace(tzinfo=None).isoformat()}]},
            RejectReason.MALFORMED,
        ),
        ({"readings": [{"metric": "t w", "value": 1, "at": NOW.isoformat()}]}, RejectReason.MALFORMED),
        (
            {"readings": [{"metric": "t", "value": 1, "at": (NOW + dt.timedelta(hours=1)).isoformat()}]},
            RejectReason.IN_FUTURE,
        ),
        (
            {"readings": [{"metric": "t", "value": 1, "at": (NOW - dt.timedelta(days=4000)).isoformat()}]},
            RejectReason.TOO_OLD,
        ),
        ({"alarms": [{"code": "E1", "state": "maybe", "at": NOW.isoformat()}]}, RejectReason.MALFORMED),
        ({"readings": [], "colour": "red"}, RejectReason.MALFORMED),
    ],
)
def test_a_bad_item_refuses_the_whole_message_and_is_counted(personas, body, reason):
    device, token = iot.device(personas.admin, personas.customer_a)
    good = iot.reading(value=1.0, at=ago(1))
    body = {**body, "readings": [good, *body.get("readings", [])]}

    (outcome,) = ingest([iot.mqtt(token, **body)], now=NOW)

    assert not outcome.ok and outcome.reason == reason
    assert not Reading.objects.exists() and not Presence.objects.exists()  # not half-stored
    assert Rejection.objects.get(reason=reason, device_prefix=device.prefix).count == 1


def test_credentials_topics_and_machines_are_checked(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    other, other_token = iot.device(personas.admin, personas.customer_z)
    body = {"readings": [iot.reading(at=ago(1))]}
    outcomes = ingest(
        [
            iot.mqtt("dev_" + "x" * 40, **body),  # nobody's
            iot.mqtt(token[:-2] + "zz", **body),  # a device's prefix, the wrong secret
            iot.mqtt(token, topic_prefix=other.prefix, **body),  # publishing on another device's topic
            iot.mqtt(token, machine=other.machines.get().serial_number, **body),  # another customer's machine
            iot.mqtt(other_token, **body),  # fine
        ],
        now=NOW,
    )
    assert [o.reason for o in outcomes] == [
        RejectReason.UNKNOWN_DEVICE,
        RejectReason.BAD_CREDENTIALS,
        RejectReason.BAD_CREDENTIALS,
        RejectReason.NOT_ITS_MACHINE,
        "",
    ]
    assert list(Reading.objects.values_list("equipment_id", flat=True)) == [other.machines.get().pk]
    revoke_device(device, actor=personas.admin)
    (outcome,) = ingest([iot.http(token, **body)], now=NOW)
    assert outcome.reason == RejectReason.REVOKED
    assert sum(Rejection.objects.values_list("count", flat=True)) == 5


def test_a_gateway_names_the_machine_of_each_item(personas):
    customer = personas.customer_a
    machines = [factories.equipment(customer, site=factories.site(customer)) for _ in range(2)]
    gateway, token = iot.device(personas.admin, customer, machines=machines)
    first, second = machines
    (outcome,) = ingest(
        [
            iot.http(
                token,
                machine=first.serial_number,
                readings=[iot.reading(at=ago(1)), iot.reading(at=ago(1), machine=second.serial_number)],
            )
        ],
        now=NOW,
    )
    assert outcome.ok
    assert sorted(Reading.objects.values_list("equipment_id", flat=True)) == sorted([first.pk, second.pk])
    (outcome,) = ingest([iot.http(token, readings=[iot.reading(at=ago(1))])], now=NOW)
    assert outcome.reason == RejectReason.MALFORMED and "machine" in outcome.detail


def test_alarms_raise_repeat_and_clear_once(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    seen = []
    hooks.on_ingested(seen.append)
    try:
        raised = {"alarms": [iot.alarm("E101", at=ago(10), severity="warning", message="Overheat")]}
        ingest([iot.mqtt(token, **raised)], now=NOW)
        ingest([iot.mqtt(token, **raised)], now=NOW)  # redelivered: nothing new
        ingest([iot.mqtt(token, alarms=[iot.alarm("E101", at=ago(5), severity="critical")])], now=NOW)
        ingest([iot.mqtt(token, alarms=[iot.alarm("E101", state="cleared", at=ago(2))])], now=NOW)
        ingest([iot.mqtt(token, alarms=[iot.alarm("E101", state="cleared", at=ago(2))])], now=NOW)
    finally:
        hooks._ingested.remove(seen.append)

    alarm = Alarm.objects.get(equipment=machine)
    assert (alarm.raised_at, alarm.cleared_at, alarm.repeats, alarm.severity) == (ago(10), ago(2), 1, "critical")
    # The hooks hear of each change once; the redeliveries changed nothing and call no hook.
    assert [(len(c.raised), len(c.repeated), len(c.cleared)) for c in seen] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    # Raised again after the clear: a new alarm.
    ingest([iot.mqtt(token, alarms=[iot.alarm("E101", at=ago(1))])], now=NOW)
    assert Alarm.objects.filter(equipment=machine, cleared_at__isnull=True).count() == 1


def test_an_empty_message_is_a_heartbeat(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    (outcome,) = ingest([iot.http(token, heartbeat=True)], now=NOW)
    assert outcome.ok
    assert Presence.objects.get(equipment=device.machines.get()).last_seen_at == NOW


def test_a_large_batch_is_stored_once_and_keeps_the_newest_values(personas):
    """Thousands of readings in one batch (written through a staging table on PostgreSQL), sent
    twice: stored once, and each metric's latest value is its newest one, not the last sent."""
    site = factories.site(personas.customer_a)
    machines = [factories.equipment(personas.customer_a, site=site) for _ in range(3)]
    _device, token = iot.device(personas.admin, personas.customer_a, machines=machines)
    messages = [
        iot.mqtt(
            token,
            machine=machine.serial_number,
            readings=[
                iot.reading(metric=f"m{k % 5}", value=float(k), at=ago(k / 60), unit="bar") for k in range(1, 401)
            ],
        )
        for machine in machines
    ]

    first = ingest(messages, now=NOW)
    again = ingest(list(reversed(messages)), now=NOW)

    assert all(o.ok for o in first + again) and sum(o.readings for o in first) == 1200
    assert Reading.objects.count() == 1200
    # The newest reading of metric m1 is k = 1 (one second ago), of m0 it is k = 5.
    latest = dict(LatestValue.objects.filter(equipment=machines[0]).values_list("metric", "value"))
    assert latest == {"m1": 1.0, "m2": 2.0, "m3": 3.0, "m4": 4.0, "m0": 5.0}
    assert set(LatestValue.objects.values_list("unit", flat=True)) == {"bar"}


@pytest.mark.parametrize(
    "written",
    [
        lambda moment: moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        lambda moment: moment.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
        lambda moment: moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00"),
    ],
)
def test_times_in_any_iso_form_with_a_zone_are_the_same_moment(personas, written):
    device, token = iot.device(personas.admin, personas.customer_a)
    text = written(ago(5))

    (outcome,) = ingest([iot.mqtt(token, readings=[{"metric": "t", "value": 1, "at": text}] * 3)], now=NOW)

    assert outcome.ok
    assert list(Reading.objects.values_list("at", flat=True)) == [ago(5)]
