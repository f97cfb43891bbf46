"""The board's data: engineers with shifts, leave and last known place, visits with travel, map
pins with priority and SLA state, the change stamp and its event stream, nearest engineers, the
queue with suggestions, and the map tile setting."""

import datetime as dt
from decimal import Decimal

from django.test import override_settings
from django.urls import reverse

from fieldservice.accounts.models import ServiceTeam
from fieldservice.board.selectors import change_stamp
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.planning.optimiser.model import GeoPoint
from fieldservice.planning.optimiser.travel import GreatCircle
from fieldservice.scheduling.models import Absence
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.services.log import log_event
from tests import factories
from tests.board.conftest import at, order_for, planned
from tests.dispatch.conftest import NEAR_NINGBO, NINGBO

DATA = reverse("board:data")


def get_data(client, **params):
    response = client.get(DATA, params)
    assert response.status_code == 200
    return response.json()


def by_id(rows):
    return {row["id"]: row for row in rows}


def test_data_lists_engineers_with_shifts_leave_and_home_base(client_for, board):
    Absence.objects.create(engineer=board.engineer, starts_at=at(board.day, "15:00"), ends_at=at(board.day, "17:30"))
    data = get_data(client_for(board.dispatcher), date=board.day.isoformat())
    engineers = by_id(data["engineers"])
    me = engineers[board.engineer.pk]
    assert me["shifts"] == [
        [at(board.day, "08:30").isoformat(), at(board.day, "12:00").isoformat()],
        [at(board.day, "13:00").isoformat(), at(board.day, "17:30").isoformat()],
    ]
    assert [(a["start"], a["kind"]) for a in me["absences"]] == [(at(board.day, "15:00").isoformat(), "leave")]
    assert me["location"] == {"lat": float(NEAR_NINGBO[0]), "lng": float(NEAR_NINGBO[1]), "source": "home", "at": None}
    # Provider B's engineer is on the board too; the on-leave one is listed with his availability.
    assert board.provider_engineer.pk in engineers
    assert engineers[board.on_leave.pk]["availability"] == "on_leave"
    assert board.customer_user_a.pk not in engineers
    assert [d["date"] for d in data["days"]] == [board.day.isoformat()]


def test_a_check_in_position_beats_the_home_base(client_for, board):
    log_event(
        board.order, actor=board.engineer, action="check_in", latitude=Decimal("29.9"), longitude=Decimal("121.6")
    )
    data = get_data(client_for(board.dispatcher), date=board.day.isoformat())
    location = by_id(data["engineers"])[board.engineer.pk]["location"]
    assert (location["lat"], location["lng"], location["source"]) == (29.9, 121.6, "check_in")


def test_visits_carry_version_order_and_travel_between_them(client_for, board):
    second = planned(board, board.engineer, at(board.day, "14:00"), priority="urgent")
    data = get_data(client_for(board.dispatcher), date=board.day.isoformat())
    visits = by_id(data["visits"])
    first = visits[board.visit.pk]
    assert first["version"] == board.visit.version and first["engineer"] == board.engineer.pk
    assert first["number"] == board.visit.work_order.number and first["customer"] == "Customer A"
    assert first["start"] == at(board.day, "10:00").isoformat() and first["end"] == at(board.day, "11:00").isoformat()
    # From home to the first site, then site to site (the same site: no travel).
    home = GreatCircle().matrix([GeoPoint(*map(float, NEAR_NINGBO)), GeoPoint(*map(float, NINGBO))])
    assert first["travel_from"] == "home" and first["travel_minutes"] == round(int(home.durations[0][1]) / 60)
    assert visits[second.pk]["travel_from"] == "visit" and visits[second.pk]["travel_minutes"] == 0
    assert visits[second.pk]["priority"] == "urgent"


def test_travel_follows_the_configured_speed(client_for, board):
    far_site = factories.site(board.customer_a, latitude=Decimal("30.17"), longitude=Decimal("121.24"))
    second = planned(board, board.engineer, at(board.day, "15:00"), site=far_site)
    client = client_for(board.dispatcher)
    with override_settings(FSM_TRAVEL_SPEED_KMH=40.0, FSM_ROAD_FACTOR=1.3):
        slow = by_id(get_data(client, date=board.day.isoformat())["visits"])[second.pk]["travel_minutes"]
    with override_settings(FSM_TRAVEL_SPEED_KMH=80.0, FSM_ROAD_FACTOR=1.3):
        fast = by_id(get_data(client, date=board.day.isoformat())["visits"])[second.pk]["travel_minutes"]
    assert slow > 30 and abs(slow - 2 * fast) <= 1


def test_day_and_week_ranges(client_for, board):
    client = client_for(board.dispatcher)
    tuesday = board.day + dt.timedelta(days=1)
    assert board.visit.pk in by_id(get_data(client, date=board.day.isoformat())["visits"])
    assert board.visit.pk not in by_id(get_data(client, date=tuesday.isoformat())["visits"])
    week = get_data(client, date=tuesday.isoformat(), span="week")
    assert board.visit.pk in by_id(week["visits"]) and len(week["days"]) == 7
    assert week["days"][0]["date"] == board.day.isoformat()
    assert len(by_id(week["engineers"])[board.engineer.pk]["shifts"]) == 10  # five office days, two periods


def test_team_and_area_filters(client_for, board):
    team = ServiceTeam.objects.create(name="East", organisation=board.own)
    board.far.engineer_profile.team = team
    board.far.engineer_profile.save()
    team.areas.add(board.hangzhou)
    client = client_for(board.dispatcher)
    data = get_data(client, date=board.day.isoformat(), team=team.pk)
    assert list(by_id(data["engineers"])) == [board.far.pk]
    # The team covers Hangzhou: the Ningbo orders and our engineer's visit are not on its board.
    assert data["orders"] == [] and data["visits"] == []
    data = get_data(client, date=board.day.isoformat(), area=board.hangzhou.pk)
    assert set(by_id(data["engineers"])) == {board.elsewhere.pk, board.far.pk}
    assert data["orders"] == []
    data = get_data(client, date=board.day.isoformat(), area=board.ningbo.pk)
    assert board.order.pk in by_id(data["orders"]) and board.elsewhere.pk not in by_id(data["engineers"])
    # A tampered filter falls back to everything rather than failing.
    assert get_data(client, team="nope", date="never")["engineers"]


def breached_clock(order):
    from django.utils import timezone

    from fieldservice.sla.models import BusinessCalendar

    now = timezone.now()
    SlaClock.objects.filter(work_order=order).delete()
    calendar = BusinessCalendar.objects.first() or BusinessCalendar.objects.create(name="24x7")
    return SlaClock.objects.create(
        work_order=order,
        calendar=calendar,
        kind="response",
        target_minutes=60,
        started_at=now,
        due_at=now - dt.timedelta(minutes=1),
        at_risk_at=now - dt.timedelta(minutes=10),
    )


def test_map_pins_carry_priority_sla_state_and_planned_visit(client_for, board):
    urgent = order_for(board, priority="urgent")
    breached_clock(urgent)
    data = get_data(client_for(board.dispatcher))
    pins = by_id(data["orders"])
    assert data["orders"][0]["id"] == urgent.pk  # urgent first
    assert pins[urgent.pk]["sla"] == "breached" and pins[urgent.pk]["priority"] == "urgent"
    assert pins[urgent.pk]["lat"] == float(NINGBO[0]) and pins[urgent.pk]["visit"] is None
    assert pins[board.visit.work_order_id]["visit"] == board.visit.pk


def test_sla_state_is_the_worst_clock(board):
    from django.utils import timezone

    from fieldservice.board.selectors import sla_states
    from fieldservice.sla.models import BusinessCalendar

    now = timezone.now()
    calendar = BusinessCalendar.objects.first() or BusinessCalendar.objects.create(name="24x7")
    SlaClock.objects.filter(work_order=board.order).delete()
    common = {"work_order": board.order, "calendar": calendar, "target_minutes": 60, "started_at": now}
    SlaClock.objects.create(kind="response", due_at=now + timezone.timedelta(hours=1), at_risk_at=now, **common)
    assert sla_states([board.order.pk], now)[board.order.pk] == "at_risk"
    SlaClock.objects.create(kind="arrival", due_at=now, at_risk_at=now, **common)
    assert sla_states([board.order.pk], now)[board.order.pk] == "breached"


def test_the_stamp_changes_when_a_visit_moves(client_for, board):
    client = client_for(board.dispatcher)
    before = get_data(client)["stamp"]
    assert before == change_stamp()
    client.post(
        reverse("board:move"),
        {
            "visit": board.visit.pk,
            "engineer": board.engineer.pk,
            "planned_start": f"{board.day:%Y-%m-%d} 14:00",
            "version": board.visit.version,
        },
    )
    assert get_data(client)["stamp"] != before


@override_settings(FSM_BOARD_SSE_SECONDS=0.3, FSM_BOARD_SSE_POLL_SECONDS=0.05)
def test_the_event_stream_sends_the_stamp_and_ends(client_for, board):
    response = client_for(board.dispatcher).get(reverse("board:events"))
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("retry: ")
    assert f'event: stamp\ndata: {{"stamp": "{change_stamp()}"}}\n\n' in body
    # The stamp did not change while streaming: one event, then keep-alive comments.
    assert body.count("event: stamp") == 1 and ": still here" in body


def test_no_tiles_by_default(client_for, board):
    client = client_for(board.dispatcher)
    assert get_data(client)["map"]["tile_url"] == ""
    assert 'data-tile-url=""' in client.get(reverse("board:board")).content.decode()


@override_settings(FSM_MAP_TILE_URL="https://tile.example.org/{z}/{x}/{y}.png")
def test_a_configured_tile_url_reaches_the_map(client_for, board):
    client = client_for(board.dispatcher)
    assert get_data(client)["map"]["tile_url"] == "https://tile.example.org/{z}/{x}/{y}.png"
    page = client.get(reverse("board:board"), {"view": "map"}).content.decode()
    assert 'data-tile-url="https://tile.example.org/{z}/{x}/{y}.png"' in page
    assert 'id="view-map" class="board-view" role="tabpanel" aria-labelledby="tab-map">' in page


def test_nearest_qualified_engineers_from_where_they_were_last_seen(client_for, board):
    client = client_for(board.dispatcher)
    url = reverse("board:nearest", args=[board.order.pk])
    rows = client.get(url).json()["engineers"]
    names = [row["id"] for row in rows]
    # Suitable only (skill, area, on duty), nearest first: our engineer near Ningbo, provider B's
    # in Cixi, then the one in Shanghai.
    assert names == [board.engineer.pk, board.provider_engineer.pk, board.far.pk]
    assert all(row["suitable"] for row in rows) and rows[0]["from"] == "home"
    # The Shanghai engineer checked in next door: now he is nearest.
    log_event(board.order, actor=board.far, action="check_in", latitude=NINGBO[0], longitude=NINGBO[1])
    rows = client.get(url).json()["engineers"]
    assert rows[0]["id"] == board.far.pk and rows[0]["distance_km"] == 0.0 and rows[0]["from"] == "check_in"
    assert client.get(url).json()["dispatch_url"] == reverse("dispatch:order", args=[board.order.pk])


def test_nearest_of_an_unknown_order_is_404(client_for, board):
    assert client_for(board.dispatcher).get(reverse("board:nearest", args=[999999])).status_code == 404


def test_the_list_is_the_dispatch_queue_with_three_suggestions(client_for, board):
    urgent = order_for(board, priority="urgent")
    client = client_for(board.dispatcher)
    html = client.get(reverse("board:queue")).content.decode()
    # Waiting orders only (the board's visit is already offered to our engineer), urgent first.
    assert f'id="queue-order-{urgent.pk}"' in html and f'id="queue-order-{board.visit.work_order_id}"' not in html
    assert html.index(f'id="queue-order-{urgent.pk}"') < html.index(f'id="queue-order-{board.order.pk}"')
    start = html.index(f'id="queue-order-{urgent.pk}"')
    row = html[start : html.find('id="queue-order-', start + 1)]
    assert row.count("<tr>") == 4  # the candidates' header and three engineers
    assert reverse("dispatch:order", args=[urgent.pk]) in html
    page = client.get(reverse("board:board"), {"view": "list"}).content.decode()
    assert f'id="queue-order-{urgent.pk}"' in page


def test_the_list_follows_the_area_filter(client_for, board):
    client = client_for(board.dispatcher)
    html = client.get(reverse("board:queue"), {"area": board.hangzhou.pk}).content.decode()
    assert f'id="queue-order-{board.order.pk}"' not in html


def test_data_of_a_dispatched_order_moves_off_the_queue(client_for, board):
    dispatch_to_engineer(board.order, actor=board.dispatcher, engineer=board.engineer)
    html = client_for(board.dispatcher).get(reverse("board:queue")).content.decode()
    assert f'id="queue-order-{board.order.pk}"' not in html
