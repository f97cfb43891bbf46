"""Whose machine data each user sees (every crossing: 404 for a machine, empty lists), the live
state by heartbeat, the chart's readings cut down in the database, the offline list and the
panels on the machine page and on the engineer's phone."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from fieldservice.iot.choices import Severity
from fieldservice.iot.models import Alarm
from fieldservice.iot.selectors import machines as selectors
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ago(**delta):
    return NOW - dt.timedelta(**delta)


@pytest.fixture
def world(personas):
    return iot.machine_world(personas, NOW)


def _visible(user):
    return set(selectors.machines_for(user).values_list("pk", flat=True))


def test_who_sees_which_machines(world):
    p, w = world.p, world
    every = {w.a_visited.pk, w.a_provider.pk, w.a_alone.pk, w.z_machine.pk}
    for staff in (p.admin, p.agent, p.dispatcher, p.director):
        assert _visible(staff) == every
    assert _visible(p.customer_user_a) == {w.a_visited.pk, w.a_provider.pk, w.a_alone.pk}
    assert _visible(p.customer_user_z) == {w.z_machine.pk}
    assert _visible(p.provider_admin) == {w.a_provider.pk}
    assert _visible(p.other_provider_admin) == set()
    assert _visible(w.engineer) == {w.a_visited.pk}
    assert _visible(factories.engineer(p.own)) == set()
    assert _visible(p.provider_engineer) == set()
    assert _visible(p.parts_keeper) == set()  # no VIEW_MACHINE_DATA


def test_an_engineer_loses_the_machine_some_time_after_the_visit(world):
    w = world
    WorkOrder.objects.filter(pk=w.visit.pk).update(status=WorkOrderStatus.CLOSED, closed_at=ago(days=3))
    assert _visible(w.engineer) == {w.a_visited.pk}
    WorkOrder.objects.filter(pk=w.visit.pk).update(closed_at=ago(days=selectors.RECENT_DAYS + 1))
    assert _visible(w.engineer) == set()


def test_crossings_are_404_on_every_page(world, client_for):
    p, w = world.p, world
    pages = ["/iot/machines/{}/", "/assets/equipment/{}/"]
    for user, machine in (
        (p.customer_user_z, w.a_visited),
        (p.customer_user_a, w.z_machine),
        (p.provider_admin, w.a_alone),
        (p.other_provider_admin, w.a_provider),
        (w.engineer, w.a_provider),
    ):
        client = client_for(user)
        response = client.get(f"/iot/machines/{machine.pk}/")
        assert response.status_code == 404, (user, machine)
        assert client.get(f"/iot/machines/{machine.pk}/?metric=temperature&period=7d").status_code == 404
    # The machine page of assets shows the panel only to who may see the machine's data.
    client = client_for(p.provider_admin)
    assert client.get(pages[0].format(w.a_provider.pk)).status_code == 200
    # Lists are empty, not refused.
    client = client_for(p.other_provider_admin)
    body = client.get("/iot/offline/").content.decode()
    assert str(w.z_machine.serial_number) not in body and str(w.a_alone.serial_number) not in body


def test_the_equipment_page_has_the_panel_only_for_who_may_see_the_data(world, client_for):
    w = world
    staff = client_for(w.p.agent).get(f"/assets/equipment/{w.a_visited.pk}/").content.decode()
    assert 'id="iot-machine-panel"' in staff and "/iot/machines/" in staff
    # The parts keeper sees the machine (assets) but not its data.
    keeper = client_for(w.p.parts_keeper).get(f"/assets/equipment/{w.a_visited.pk}/")
    if keeper.status_code == 200:
        assert 'id="iot-machine-panel"' not in keeper.content.decode()


def test_live_state_online_offline_and_open_alarms(world):
    w = world
    state = selectors.live_state(w.a_alone, now=NOW)
    assert state.online is True and [v.metric for v in state.latest] == ["temperature"]
    iot.heard_from(w.a_alone, ago(minutes=6), every_seconds=300)
    assert selectors.live_state(w.a_alone, now=NOW).online is False
    iot.heard_from(w.a_alone, ago(minutes=4), every_seconds=300)
    assert selectors.live_state(w.a_alone, now=NOW).online is True
    Alarm.objects.create(equipment=w.a_alone, code="E1", severity=Severity.CRITICAL, raised_at=ago(hours=2))
    Alarm.objects.create(equipment=w.a_alone, code="E2", raised_at=ago(hours=3), cleared_at=ago(hours=1))
    assert [a.code for a in selectors.live_state(w.a_alone, now=NOW).open_alarms] == ["E1"]
    never = factories.equipment(w.p.customer_a)
    state = selectors.live_state(never, now=NOW)
    assert state.online is None and state.never_seen and not state.connected


def test_offline_list_and_counts_follow_the_heartbeat_and_the_scope(world, client_for):
    p, w = world.p, world
    iot.heard_from(w.a_alone, ago(hours=2), every_seconds=3600)  # silent longer than its interval
    iot.heard_from(w.z_machine, ago(minutes=50), every_seconds=3600)  # silent, but not for long
    iot.heard_from(w.a_provider, ago(days=2), every_seconds=300)
    assert list(selectors.offline_machines_for(p.agent, now=NOW)) == [w.a_provider, w.a_alone]
    assert list(selectors.offline_machines_for(p.provider_admin, now=NOW)) == [w.a_provider]
    assert list(selectors.offline_machines_for(p.customer_user_z, now=NOW)) == []
    iot.device(p.admin, p.customer_z)  # a new machine with a device, never heard from
    counts = selectors.connection_counts(p.agent, now=NOW)
    assert (counts.online, counts.offline, counts.never_seen) == (2, 2, 1)
    assert selectors.connection_counts(p.customer_user_a, now=NOW).never_seen == 0

    client = client_for(p.agent)
    page = client.get("/iot/offline/").content.decode()
    assert w.a_alone.serial_number in page and w.a_provider.serial_number in page
    assert w.z_machine.serial_number not in page
    found = client.get("/iot/offline/", {"q": w.a_alone.serial_number}).content.decode()
    assert w.a_alone.serial_number in found and w.a_provider.serial_number not in found
    by_customer = client.get("/iot/offline/", {"customer": p.customer_z.pk}).content.decode()
    assert w.a_alone.serial_number not in by_customer
    export = client.get("/iot/offline/", {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    overview = client.get("/iot/machines/").content.decode()
    assert 'data-count="offline">2<' in overview and 'data-count="never">1<' in overview


def test_chart_series_is_cut_down_in_the_database(world):
    machine = world.a_alone
    start = ago(days=30)
    # Every 20 seconds over 30 days would be 129,600 rows; one every 10 minutes keeps the test quick
    # while still far above the limit.
    points = [(start + dt.timedelta(minutes=10 * i), float(i % 100)) for i in range(30 * 24 * 6)]
    iot.store_readings(machine, "vibration", points)
    series = selectors.readings_series(machine, "vibration", start, NOW, limit=500)
    assert 250 <= len(series) <= 500
    assert sum(bucket.count for bucket in series) == len(points)
    assert min(b.low for b in series) == 0.0 and max(b.high for b in series) == 99.0
    assert all(b.low <= b.mean <= b.high for b in series)
    assert [b.at for b in series] == sorted(b.at for b in series)
    small = selectors.readings_series(machine, "vibration", start, NOW, limit=7)
    assert len(small) <= 7 and sum(b.count for b in small) == len(points)
    assert selectors.readings_series(machine, "nothing", start, NOW) == []


def test_machine_page_draws_the_chart_with_alarms_and_orders(world, client_for):
    w = world
    machine = w.a_visited
    iot.store_readings(machine, "temperature", [(ago(hours=h), 30.0 + h) for h in range(1, 20)], unit="°C")
    Alarm.objects.create(equipment=machine, code="E7", raised_at=ago(hours=5))
    client = client_for(w.p.agent)
    page = client.get(f"/iot/machines/{machine.pk}/", {"metric": "temperature", "period": "24h"}).content.decode()
    assert "<svg" in page and 'role="img"' in page and "<title" in page and "<desc" in page
    assert 'class="series-line"' in page
    assert 'class="alarm-mark"' in page and 'class="order-mark"' in page
    assert w.visit.number in page
    # An empty period says so instead of drawing an empty frame.
    empty = client.get(
        f"/iot/machines/{machine.pk}/",
        {"metric": "temperature", "period": "custom", "start": "2020-01-01", "end": "2020-01-05"},
    ).content.decode()
    assert 'class="series-line"' not in empty and 'id="chart-empty"' in empty
    # Bad dates name the field.
    bad = client.get(
        f"/iot/machines/{machine.pk}/", {"period": "custom", "start": "2020-02-01", "end": "2020-01-05"}
    ).content.decode()
    assert 'id="chart-empty"' not in bad and re.search(r'errorlist|field-error|class="error', bad)


def test_the_engineer_phone_shows_the_machine_readings(world, client_for):
    w = world
    Alarm.objects.create(equipment=w.a_visited, code="E9", raised_at=ago(hours=1))
    page = client_for(w.engineer).get(f"/m/orders/{w.visit.pk}/").content.decode()
    assert 'id="iot-phone-panel"' in page and "E9" in page and "temperature" in page


def test_the_phone_chart_is_drawn_for_the_phone_width(world, client_for):
    """The phone's chart has a viewBox about the phone's width (so its text is not shrunk to a few
    pixels), fewer ticks and a larger font; the desktop page keeps its own."""
    w = world
    machine = w.a_visited
    iot.store_readings(machine, "temperature", [(ago(hours=h), 30.0 + h) for h in range(1, 20)], unit="°C")
    iot.store_readings(machine, "pressure", [(ago(hours=h), 5.0 + h / 10) for h in range(1, 20)], unit="bar")
    client = client_for(w.engineer)
    page = client.get(f"/m/orders/{w.visit.pk}/").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'viewBox="0 0 360 300"' in svg and "font-size:15px" in svg and "max-width:560px" in svg
    assert svg.count('text-anchor="middle">') == 1  # three time ticks: start, middle, end
    assert 'href="?iot_metric=temperature#iot-phone-panel"' in page

    def chart_title(page):
        return page[page.index('<title id="chart-title">') :].split("</title>")[0]

    assert "Pressure" in chart_title(page)  # the first metric by name
    chosen = client.get(f"/m/orders/{w.visit.pk}/", {"iot_metric": "temperature"}).content.decode()
    assert "Temperature" in chart_title(chosen)
    unknown = client.get(f"/m/orders/{w.visit.pk}/", {"iot_metric": "nothing"}).content.decode()
    assert "Pressure" in chart_title(unknown)
    desktop = client_for(w.p.agent).get(f"/iot/machines/{machine.pk}/", {"metric": "temperature"}).content.decode()
    assert 'viewBox="0 0 900 350"' in desktop and "font-size:14px" in desktop and "<figcaption" in desktop


def test_common_metrics_are_named_in_the_reader_s_language_and_others_as_the_device_sent_them(world, client_for):
    w = world
    machine = w.a_visited
    iot.store_readings(machine, "temperature", [(ago(hours=1), 40.0)], unit="°C")
    iot.store_readings(machine, "spindle_load", [(ago(hours=1), 0.4)])
    client = client_for(w.p.agent)

    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/iot/machines/{machine.pk}/", {"metric": "temperature"}).content.decode()
    assert "<td>温度</td>" in page and "<td>spindle_load</td>" in page
    assert '<option value="temperature" selected>温度</option>' in page

    client.cookies["django_language"] = "en"
    page = client.get(f"/iot/machines/{machine.pk}/", {"metric": "temperature"}).content.decode()
    assert "<td>Temperature</td>" in page and "<td>spindle_load</td>" in page


def test_an_alarm_shows_what_the_administrator_wrote_for_its_code(world, client_for):
    from fieldservice.iot.models import AlarmMapping

    w = world
    machine = w.a_visited
    Alarm.objects.create(equipment=machine, code="TEMPERATURE_HIGH", message="oil 96 °C", raised_at=ago(hours=1))
    Alarm.objects.create(equipment=machine, code="E77", raised_at=ago(hours=2))
    AlarmMapping.objects.create(code="TEMPERATURE_HIGH", description="Hydraulic oil too hot")
    client = client_for(w.p.agent)

    page = client.get(f"/iot/machines/{machine.pk}/").content.decode()
    assert "<strong>TEMPERATURE_HIGH</strong> Hydraulic oil too hot oil 96 °C" in page
    assert "<strong>E77</strong> ·" in page  # an unmapped code, as the device sent it
    listing = client.get("/iot/alarms/").content.decode()
    assert "TEMPERATURE_HIGH · Hydraulic oil too hot" in listing and ">E77<" in listing
