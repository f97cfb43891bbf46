"""The private calendar feed: page, token rotation, and the iCalendar text parsed strictly."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.scheduling import services
from fieldservice.scheduling.ical import escape_text, fold
from fieldservice.scheduling.models import CalendarFeed
from tests.scheduling.conftest import EVERY_DAY, at, order_for, profile


def parse(body: bytes) -> list[dict]:
    """Check the physical lines (CRLF, <= 75 octets), unfold, and return the events' properties."""
    text = body.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    unfolded: list[str] = []
    for line in physical:
        if line.startswith(" "):
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR" and "VERSION:2.0" in unfolded
    events, current = [], None
    for line in unfolded:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return events


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


@pytest.fixture
def feed_world(world):
    profile(world.engineer, hours=EVERY_DAY)
    profile(world.second, hours=EVERY_DAY)
    today = timezone.localdate()
    world.tomorrow = today + dt.timedelta(days=1)
    world.visit = services.schedule_visit(
        world.order, actor=world.dispatcher, planned_start=at(world.tomorrow, "14:00"), duration_minutes=90
    )
    world.theirs = order_for(world, engineer=world.second)
    services.schedule_visit(world.theirs, actor=world.dispatcher, planned_start=at(world.tomorrow, "09:00"))
    world.too_far = order_for(world, engineer=world.engineer)
    services.schedule_visit(
        world.too_far, actor=world.dispatcher, planned_start=at(today + dt.timedelta(days=95), "09:00")
    )
    return world


def feed_url(client) -> str:
    response = client.get("/schedule/me/feed/")
    assert response.status_code == 200
    return response.context["feed_url"]


def test_feed_carries_only_my_visits_in_range(client_for, feed_world, client):
    w = feed_world
    url = feed_url(client_for(w.engineer))
    response = client.get(url)  # no login
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = parse(response.content)
    assert len(events) == 1
    event = events[0]
    assert event["UID"] == f"visit-{w.visit.pk}@visits.fieldservice"
    start_utc = w.visit.planned_start.astimezone(dt.UTC)
    assert event["DTSTART"] == start_utc.strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == (start_utc + dt.timedelta(minutes=90)).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTSTAMP"].endswith("Z") and len(event["DTSTAMP"]) == 16
    assert unescape(event["SUMMARY"]) == f"{w.order.number} Customer A"
    assert unescape(event["LOCATION"]) == "北仑工厂, 浙江省宁波市北仑区港口路88号"
    assert unescape(event["DESCRIPTION"]) == "Oil temperature: 液压油温度报警, 停机; 请尽快\\处理\n第二行"
    assert w.theirs.number not in response.content.decode() and w.too_far.number not in response.content.decode()
    assert CalendarFeed.objects.get(user=w.engineer).last_fetched_at is not None
    # The UID is stable across fetches and reschedules.
    services.schedule_visit(w.order, actor=w.dispatcher, planned_start=at(w.tomorrow, "15:00"), duration_minutes=60)
    again = parse(client.get(url).content)[0]
    assert again["UID"] == event["UID"] and again["DTSTART"] != event["DTSTART"]


def test_rotation_kills_the_old_address(client_for, feed_world, client):
    engineer = client_for(feed_world.engineer)
    old = feed_url(engineer)
    assert feed_url(engineer) == old  # the page shows the same address until rotated
    assert engineer.post("/schedule/me/feed/rotate/").status_code == 302
    new = feed_url(engineer)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/schedule/ical/not-a-token.ics").status_code == 404


def test_feed_of_a_deactivated_engineer_is_gone(client_for, feed_world, client):
    url = feed_url(client_for(feed_world.engineer))
    feed_world.engineer.is_active = False
    feed_world.engineer.save()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("who", ["dispatcher", "customer_user_a", "provider_admin"])
def test_only_engineers_have_a_feed(client_for, world, who):
    client = client_for(getattr(world, who))
    assert client.get("/schedule/me/feed/").status_code == 403
    assert client.post("/schedule/me/feed/rotate/").status_code == 403
    assert not CalendarFeed.objects.exists()


def test_escaping_and_folding():
    assert escape_text("a,b;c\\d\r\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "液压" * 40
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert "".join([pieces[0]] + [p[1:] for p in pieces[1:]]) == line
    assert fold("SHORT:x") == "SHORT:x"
