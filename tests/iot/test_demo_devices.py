"""The demo's devices while the demo runs (iot/demo.py `live_fleet`, `fsm demo_devices`): the worn
machine wears on, healthy machines overheat in turn and cool down, and the whole thing reaches
the product through its real HTTP door."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from fieldservice.iot import demo
from fieldservice.iot.models import Alarm, Device, Incident, LatestValue, Reading, Rejection
from fieldservice.iot.services.configuration import create_alarm_mapping
from fieldservice.workorders.choices import Channel
from tests import factories
from tests.iot.factories import device

STARTED = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def fleet_of(personas, machines=4):
    customer = personas.customer_a
    devices = [device(personas.admin, customer)[0] for _n in range(machines)]
    return devices


def run_ticks(fleet, start, end, every=dt.timedelta(seconds=15)):
    """What the fleet sends from `start` to `end`: [(moment, serial, alarm)]."""
    alarms = []
    at = start
    while at <= end:
        for machines in fleet.values():
            for machine in machines:
                _readings, raised = machine.tick(at, silence_chance=0, storm_chance=0)
                alarms += [(at, machine.serial, alarm) for alarm in raised]
        at += every
    return alarms


def test_the_worn_machine_wears_on_from_its_history_and_the_others_overheat_in_turn(personas):
    devices = fleet_of(personas)
    anchor = min(d.created_at for d in devices)
    started = anchor + dt.timedelta(days=2)  # the demo served two days after it was loaded
    fleet = demo.live_fleet(devices, started=started)

    serials = sorted(m.serial for machines in fleet.values() for m in machines)
    assert len(serials) == 4
    worn = demo.worn_machine(serials)
    machine = next(m for machines in fleet.values() for m in machines if m.serial == worn)
    wear = next(d for d in machine.drifts if d.metric == "wear")
    # The wear the history was drawn from (anchored at the devices' issue), not a fresh start.
    assert wear.level(started) == pytest.approx(demo._wear_drift(worn, anchor).level(started))
    assert wear.baseline < wear.level(anchor) < wear.level(started) < wear.threshold
    assert wear.level(anchor + demo.WEAR_FAILURE) == pytest.approx(wear.threshold)

    alarms = run_ticks(fleet, started, started + demo.OVERHEAT_FIRST + 3 * demo.OVERHEAT_EVERY)
    hot = [(at, serial, a) for at, serial, a in alarms if a["code"] == "TEMPERATURE_HIGH"]
    raised_first = {}
    for at, serial, alarm in hot:
        if alarm["state"] == "raised":
            raised_first.setdefault(serial, at)
    # Every healthy machine but the worn one overheats once, one every OVERHEAT_EVERY, in turn.
    assert set(raised_first) == set(serials) - {worn}
    moments = sorted(raised_first.values())
    assert started + demo.OVERHEAT_FIRST < moments[0] <= started + demo.OVERHEAT_FIRST + demo.OVERHEAT_RISE
    gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
    assert all(abs(gap - demo.OVERHEAT_EVERY) <= dt.timedelta(seconds=30) for gap in gaps)
    # ... and cools down: its alarm is cleared after the hold.
    first = min(raised_first, key=raised_first.get)
    cleared = [at for at, serial, a in hot if serial == first and a["state"] == "cleared"]
    assert cleared and cleared[0] - raised_first[first] >= demo.OVERHEAT_HOLD - dt.timedelta(minutes=1)


def test_without_demo_devices_the_command_says_so_and_stops(db):
    out = io.StringIO()
    call_command("demo_devices", "--duration", "1", stdout=out)
    assert "No demo devices" in out.getvalue()


def test_bad_interval_is_refused_naming_it(db):
    with pytest.raises(Exception, match="--interval"):
        call_command("demo_devices", "--interval", "0")


@pytest.mark.django_db(transaction=True)
def test_the_demo_devices_publish_through_the_http_door_and_an_overheating_machine_opens_its_order(
    personas, live_server, monkeypatch
):
    # Compressed: the first machine overheats at once and holds its alarm.
    monkeypatch.setattr(demo, "OVERHEAT_FIRST", dt.timedelta(0))
    monkeypatch.setattr(demo, "OVERHEAT_RISE", dt.timedelta(seconds=1))
    monkeypatch.setattr(demo, "OVERHEAT_HOLD", dt.timedelta(minutes=10))
    category = factories.fault_category()
    create_alarm_mapping(actor=personas.admin, code="TEMPERATURE_HIGH", fault_category=category, priority="high")
    devices = fleet_of(personas, machines=2)
    silent, _token = device(personas.admin, personas.customer_a, name="Customer A" + demo.SILENT_SUFFIX)
    prefixes = {d.pk: d.prefix for d in devices}

    out = io.StringIO()
    call_command(
        "demo_devices",
        "--http",
        f"{live_server.url}/api/v1/iot/messages",
        "--interval",
        "0.5",
        "--duration",
        "4",
        stdout=out,
    )

    assert "over HTTP" in out.getvalue() and "2 devices, 2 machines" in out.getvalue()
    # Each device got a new token (shown once: the simulator could not know the old one).
    assert all(Device.objects.get(pk=pk).prefix != prefix for pk, prefix in prefixes.items())
    machines = [m for d in devices for m in d.machines.all()]
    assert not Rejection.objects.exists()
    for machine in machines:
        stored = Reading.objects.filter(equipment=machine)
        assert stored.filter(metric="temperature").count() >= 5
        assert set(stored.values_list("metric", flat=True)) == {"vibration", "temperature", "wear"}
    # The silent gateway's machine stays silent.
    assert not Reading.objects.filter(equipment__in=silent.machines.all()).exists()
    assert not LatestValue.objects.filter(equipment__in=silent.machines.all()).exists()

    hot = Alarm.objects.get(code="TEMPERATURE_HIGH")
    incident = Incident.objects.get(equipment=hot.equipment, cause="alarm:TEMPERATURE_HIGH")
    order = incident.work_order
    assert order.request.channel == Channel.IOT and order.fault_category == category
    assert Incident.objects.count() == 1  # repeated raises add to it
