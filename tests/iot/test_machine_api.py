"""The machine data API (/api/v1/iot/machines…, /api/v1/iot/offline): scoped as the machine page
(another's machine is a 404, lists hold only the caller's), the live state by heartbeat, the
readings cut down to buckets in the database, the forecast of each watched metric, and bad input
refused naming the field."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.iot.choices import Severity
from fieldservice.iot.models import Alarm, AlarmMapping
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


def ago(**delta):
    return NOW - dt.timedelta(**delta)


@pytest.fixture
def world(personas):
    return iot.machine_world(personas, NOW)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def _error_fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {row["loc"][-1] for row in response.json()["detail"]}


def test_the_list_holds_only_the_callers_machines(world, api_client_for):
    p, w = world.p, world
    every = sorted([w.a_visited, w.a_provider, w.a_alone, w.z_machine], key=lambda m: (m.serial_number, m.pk))
    assert _ids(api_client_for(p.agent).get("/api/v1/iot/machines")) == [m.pk for m in every]
    assert set(_ids(api_client_for(p.customer_user_a).get("/api/v1/iot/machines"))) == {
        w.a_visited.pk,
        w.a_provider.pk,
        w.a_alone.pk,
    }
    assert _ids(api_client_for(p.customer_user_z).get("/api/v1/iot/machines")) == [w.z_machine.pk]
    assert _ids(api_client_for(p.provider_admin).get("/api/v1/iot/machines")) == [w.a_provider.pk]
    assert _ids(api_client_for(p.other_provider_admin).get("/api/v1/iot/machines")) == []
    assert _ids(api_client_for(w.engineer).get("/api/v1/iot/machines")) == [w.a_visited.pk]
    assert _ids(api_client_for(factories.engineer(p.own)).get("/api/v1/iot/machines")) == []
    assert _ids(api_client_for(p.parts_keeper).get("/api/v1/iot/machines")) == []  # no VIEW_MACHINE_DATA
    # A machine never connected (no device, never heard from) is not listed.
    factories.equipment(p.customer_a)
    assert len(_ids(api_client_for(p.agent).get("/api/v1/iot/machines"))) == 4


def test_the_list_says_online_last_seen_and_open_alarms_and_searches(world, api_client_for):
    p, w = world.p, world
    iot.heard_from(w.a_alone, ago(hours=2), every_seconds=3600)
    Alarm.objects.create(equipment=w.a_alone, code="E1", severity=Severity.CRITICAL, raised_at=ago(hours=2))
    Alarm.objects.create(equipment=w.a_alone, code="E2", raised_at=ago(hours=1))
    Alarm.objects.create(equipment=w.a_alone, code="E3", raised_at=ago(hours=3), cleared_at=ago(hours=1))
    never = iot.device(p.admin, p.customer_a)[0].machines.get()  # a device, never heard from
    api = api_client_for(p.customer_user_a)
    body = api.get("/api/v1/iot/machines").json()
    assert body["count"] == 4
    rows = {row["id"]: row for row in body["items"]}
    alone = rows[w.a_alone.pk]
    assert alone["online"] is False and alone["open_alarm_count"] == 2
    assert alone["expected_interval_seconds"] == 3600
    assert dt.datetime.fromisoformat(alone["last_seen_at"]) == ago(hours=2)
    assert alone["customer"] == p.customer_a.pk and alone["customer_name"] == "Customer A"
    visited = rows[w.a_visited.pk]
    assert visited["online"] is True and visited["open_alarm_count"] == 0
    assert rows[never.pk]["online"] is None and rows[never.pk]["last_seen_at"] is None
    found = api.get("/api/v1/iot/machines", {"q": w.a_alone.serial_number})
    assert _ids(found) == [w.a_alone.pk]
    assert _ids(api.get("/api/v1/iot/machines", {"q": "Ningbo"})) == [w.a_visited.pk]
    assert _ids(api.get("/api/v1/iot/machines", {"customer": p.customer_z.pk})) == []
    paged = api.get("/api/v1/iot/machines", {"page_size": 1, "page": 2}).json()
    assert paged["count"] == 4 and len(paged["items"]) == 1


def test_offline_machines_the_longest_silent_first_and_scoped(world, api_client_for):
    p, w = world.p, world
    iot.heard_from(w.a_alone, ago(hours=2), every_seconds=3600)  # silent longer than its interval
    iot.heard_from(w.z_machine, ago(minutes=50), every_seconds=3600)  # silent, but not for long
    iot.heard_from(w.a_provider, ago(days=2), every_seconds=300)
    Alarm.objects.create(equipment=w.a_provider, code="E5", raised_at=ago(days=2))
    rows = api_client_for(p.agent).get("/api/v1/iot/offline").json()["items"]
    assert [row["id"] for row in rows] == [w.a_provider.pk, w.a_alone.pk]
    assert all(row["online"] is False for row in rows) and rows[0]["open_alarm_count"] == 1
    assert _ids(api_client_for(p.provider_admin).get("/api/v1/iot/offline")) == [w.a_provider.pk]
    assert _ids(api_client_for(p.customer_user_z).get("/api/v1/iot/offline")) == []
    assert _ids(api_client_for(w.engineer).get("/api/v1/iot/offline")) == []
    searched = api_client_for(p.agent).get("/api/v1/iot/offline", {"q": w.a_alone.serial_number})
    assert _ids(searched) == [w.a_alone.pk]


def test_live_state_of_one_machine(world, api_client_for):
    p, w = world.p, world
    machine = w.a_visited
    iot.store_readings(machine, "pressure", [(ago(minutes=30), 6.5), (ago(minutes=3), 7.25)], unit="bar")
    Alarm.objects.create(
        equipment=machine, code="E9", severity=Severity.CRITICAL, message="Oil low", raised_at=ago(hours=1)
    )
    Alarm.objects.create(equipment=machine, code="E8", raised_at=ago(hours=2))
    Alarm.objects.create(equipment=machine, code="E7", raised_at=ago(hours=3), cleared_at=ago(hours=2))
    AlarmMapping.objects.create(code="E9", description="Hydraulic oil low")
    body = api_client_for(w.engineer).get(f"/api/v1/iot/machines/{machine.pk}").json()
    assert body["id"] == machine.pk and body["serial_number"] == machine.serial_number
    assert body["online"] is True and body["connected"] is True
    assert dt.datetime.fromisoformat(body["last_seen_at"]) == ago(minutes=1)
    assert [(v["metric"], v["value"], v["unit"]) for v in body["latest"]] == [
        ("pressure", 7.25, "bar"),
        ("temperature", 40.0, "°C"),
    ]
    assert dt.datetime.fromisoformat(body["latest"][0]["at"]) == ago(minutes=3)
    assert [(a["code"], a["description"], a["severity"], a["message"]) for a in body["open_alarms"]] == [
        ("E9", "Hydraulic oil low", "critical", "Oil low"),
        ("E8", None, "warning", ""),
    ]
    assert dt.datetime.fromisoformat(body["open_alarms"][0]["raised_at"]) == ago(hours=1)
    iot.heard_from(machine, ago(minutes=10), every_seconds=300)
    assert api_client_for(p.agent).get(f"/api/v1/iot/machines/{machine.pk}").json()["online"] is False


def test_another_callers_machine_is_a_404_on_every_endpoint(world, api_client_for):
    p, w = world.p, world
    for user, machine in (
        (p.customer_user_z, w.a_visited),
        (p.customer_user_a, w.z_machine),
        (p.provider_admin, w.a_alone),
        (p.other_provider_admin, w.a_provider),
        (w.engineer, w.a_provider),
        (p.parts_keeper, w.a_visited),
    ):
        api = api_client_for(user)
        for path in ("", "/readings?metric=temperature", "/forecast"):
            response = api.get(f"/api/v1/iot/machines/{machine.pk}{path}")
            assert response.status_code == 404, (user, machine, path)
    assert api_client_for(p.agent).get("/api/v1/iot/machines/987654").status_code == 404
    for user, machine in ((p.provider_admin, w.a_provider), (w.engineer, w.a_visited)):
        assert api_client_for(user).get(f"/api/v1/iot/machines/{machine.pk}").status_code == 200


def test_readings_are_bucketed_in_the_database(world, api_client_for):
    w = world
    machine = w.a_alone
    start = ago(hours=24)
    # One reading every 10 minutes over 24 hours (off the buckets' edges): 144 readings, each the
    # hour since start.
    points = [(start + dt.timedelta(minutes=5 + 10 * i), float(i // 6)) for i in range(144)]
    iot.store_readings(machine, "vibration", points, unit="mm/s")
    api = api_client_for(w.p.agent)
    params = {"metric": "vibration", "start": start.isoformat(), "end": NOW.isoformat(), "buckets": 4}
    body = api.get(f"/api/v1/iot/machines/{machine.pk}/readings", params).json()
    assert body["metric"] == "vibration" and body["unit"] == "mm/s"
    assert body["bucket_seconds"] == pytest.approx(6 * 3600)
    buckets = body["buckets"]
    assert [b["count"] for b in buckets] == [36, 36, 36, 36]
    assert [(b["low"], b["high"]) for b in buckets] == [(0, 5), (6, 11), (12, 17), (18, 23)]
    assert [b["mean"] for b in buckets] == pytest.approx([2.5, 8.5, 14.5, 20.5])
    firsts = [start + dt.timedelta(hours=6 * i, minutes=5) for i in range(4)]
    assert [dt.datetime.fromisoformat(b["at"]) for b in buckets] == firsts
    # The default: the last 24 hours (the clock ticks from NOW), in at most 500 buckets.
    default = api.get(f"/api/v1/iot/machines/{machine.pk}/readings", {"metric": "vibration"}).json()
    assert 140 <= sum(b["count"] for b in default["buckets"]) <= 144 and len(default["buckets"]) <= 500
    times = [b["at"] for b in default["buckets"]]
    assert times == sorted(times)
    # A naive moment is in the current time zone; a period without readings has no buckets.
    naive = timezone.localtime(ago(days=3)).replace(tzinfo=None)
    empty = api.get(
        f"/api/v1/iot/machines/{machine.pk}/readings",
        {"metric": "vibration", "start": naive.isoformat(), "end": (naive + dt.timedelta(hours=1)).isoformat()},
    ).json()
    assert empty["buckets"] == [] and dt.datetime.fromisoformat(empty["start"]) == ago(days=3)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "nothing"}, "metric"),
        ({}, "metric"),
        ({"metric": "x" * 41}, "metric"),
        ({"metric": "temperature", "start": "2026-01-02T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"}, "end"),
        ({"metric": "temperature", "start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T00:00:00+00:00"}, "end"),
        ({"metric": "temperature", "start": "2024-01-01T00:00:00+00:00", "end": "2025-06-01T00:00:00+00:00"}, "end"),
        ({"metric": "temperature", "start": "0001-01-01T00:00:00+14:00"}, "start"),
        ({"metric": "temperature", "end": "9999-12-31T23:59:59-12:00"}, "end"),
        ({"metric": "temperature", "start": "yesterday"}, "start"),
        ({"metric": "temperature", "buckets": 0}, "buckets"),
        ({"metric": "temperature", "buckets": 501}, "buckets"),
    ],
)
def test_bad_readings_queries_name_the_field(world, api_client_for, params, field):
    response = api_client_for(world.p.agent).get(f"/api/v1/iot/machines/{world.a_alone.pk}/readings", params)
    assert field in _error_fields(response)


def test_forecast_of_each_watched_metric(world, api_client_for):
    p, w = world.p, world
    machine = w.a_visited
    api = api_client_for(w.engineer)
    url = f"/api/v1/iot/machines/{machine.pk}/forecast"
    assert api.get(url).json() == []  # no rule watches anything
    rule = iot.threshold_rule(p.admin, metric="wear", kind="above", value=100.0)
    iot.threshold_rule(p.admin, metric="pressure", kind="below", value=2.0)
    # Wear rises 2 a day over ten days, hourly: at 60 now, it reaches 100 in 20 days.
    hours = range(10 * 24, -1, -1)
    iot.store_readings(machine, "wear", [(ago(hours=h), 60.0 - 2.0 * h / 24) for h in hours])
    # Pressure holds steady at 6: a trend, no crossing.
    iot.store_readings(machine, "pressure", [(ago(hours=h), 6.0) for h in hours])
    rows = api.get(url).json()
    assert [row["metric"] for row in rows] == ["pressure", "wear"]
    pressure, wear = rows
    assert wear["threshold"] == {"rule": rule.pk, "name": rule.name, "direction": "above", "value": 100.0}
    assert wear["trend"]["slope_per_day"] == pytest.approx(2.0, abs=1e-6)
    assert wear["trend"]["value_now"] == pytest.approx(60.0, abs=0.01)
    assert wear["trend"]["r2"] == pytest.approx(1.0) and wear["trend"]["hours"] == 241
    assert wear["confident"] is True
    assert wear["crossing"]["days"] == pytest.approx(20.0, abs=0.01)
    assert dt.date.fromisoformat(wear["crossing"]["on"]) == timezone.localdate(NOW + dt.timedelta(days=20))
    assert pressure["crossing"] is None and pressure["trend"]["slope_per_day"] == pytest.approx(0.0, abs=1e-9)
    # A shorter horizon than the crossing: the trend without the crossing.
    short = api.get(url, {"horizon": 10}).json()
    assert [row["crossing"] for row in short] == [None, None]
    assert api.get(url, {"horizon": 0}).status_code == 422
