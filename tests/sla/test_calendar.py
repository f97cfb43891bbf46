"""Business-time arithmetic on the shipped China working week (Mon–Fri 09:00–12:00 and 13:00–18:00,
Asia/Shanghai, the 2026 State Council holidays) and on 24×7, with exact expected moments."""

import json
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fieldservice.sla.calendar import (
    CalendarSpec,
    NoWorkingTimeError,
    add_business_minutes,
    business_minutes_between,
)
from fieldservice.sla.choices import HolidayKind
from fieldservice.sla.services.calendars import DATA_DIR
from tests.sla.conftest import local

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        # Inside one period, and landing exactly on its end (18:00, not the next morning).
        (local(2026, 3, 11, 10), 30, local(2026, 3, 11, 10, 30)),
        (local(2026, 3, 11, 17), 60, local(2026, 3, 11, 18)),
        (local(2026, 3, 11, 17), 61, local(2026, 3, 12, 9, 1)),
        # The lunch break does not count.
        (local(2026, 3, 11, 11, 30), 60, local(2026, 3, 11, 13, 30)),
        (local(2026, 3, 11, 12, 30), 30, local(2026, 3, 11, 13, 30)),
        # Before and after hours.
        (local(2026, 3, 11, 7), 30, local(2026, 3, 11, 9, 30)),
        (local(2026, 3, 11, 19), 30, local(2026, 3, 12, 9, 30)),
        # Over a weekend: Friday 17:00 + 2 h is Monday 10:00; from Saturday, Monday morning.
        (local(2026, 3, 13, 17), 120, local(2026, 3, 16, 10)),
        (local(2026, 3, 14, 11), 45, local(2026, 3, 16, 9, 45)),
        # Several days: three working days of 480 minutes.
        (local(2026, 3, 9, 10), 1440, local(2026, 3, 12, 10)),
        (local(2026, 3, 9, 10), 4800, local(2026, 3, 23, 10)),
        # Qingming (Sat 4 – Mon 6 April): Friday 17:00 + 2 h is Tuesday 10:00.
        (local(2026, 4, 3, 17), 120, local(2026, 4, 7, 10)),
        # Dragon Boat (Fri 19 – Sun 21 June) on a Friday.
        (local(2026, 6, 18, 17, 30), 60, local(2026, 6, 22, 9, 30)),
        # New Year: 1–3 January off, Sunday 4 January worked (调休).
        (local(2025, 12, 31, 17), 120, local(2026, 1, 4, 10)),
        # Adjusted working Sunday 20 September.
        (local(2026, 9, 18, 17), 120, local(2026, 9, 20, 10)),
        # National Day 1–7 October, then Thu 8, Fri 9 and the adjusted working Saturday 10 October.
        (local(2026, 9, 30, 17), 60 + 480 * 2 + 60, local(2026, 10, 10, 10)),
    ],
)
def test_add_business_minutes(cn, start, minutes, due):
    result = add_business_minutes(cn, start, minutes)
    assert result == due
    assert result.tzinfo is not None
    assert business_minutes_between(cn, start, result) == minutes


def test_the_spring_festival_week_of_2026(cn):
    # Saturday 14 February is worked; 15–23 February are off; work resumes Tuesday 24.
    assert add_business_minutes(cn, local(2026, 2, 13, 17), 120) == local(2026, 2, 14, 10)
    assert add_business_minutes(cn, local(2026, 2, 14, 17), 120) == local(2026, 2, 24, 10)
    assert add_business_minutes(cn, local(2026, 2, 16, 10), 30) == local(2026, 2, 24, 9, 30)
    # Saturday 28 February is worked too.
    assert add_business_minutes(cn, local(2026, 2, 27, 17), 120) == local(2026, 2, 28, 10)
    # 13, 14 and 24 February are the only working days from the 13th to the 24th.
    assert business_minutes_between(cn, local(2026, 2, 13, 9), local(2026, 2, 24, 18)) == 3 * 480
    assert business_minutes_between(cn, local(2026, 2, 15), local(2026, 2, 24)) == 0


def test_minutes_between(cn):
    assert business_minutes_between(cn, local(2026, 3, 11, 12, 10), local(2026, 3, 11, 12, 50)) == 0
    assert business_minutes_between(cn, local(2026, 3, 11, 11), local(2026, 3, 11, 14)) == 120
    assert business_minutes_between(cn, local(2026, 3, 11, 14), local(2026, 3, 11, 11)) == 0
    # Seconds count as fractions of a minute.
    assert business_minutes_between(cn, local(2026, 3, 11, 10), local(2026, 3, 11, 10, 0, 30)) == 0.5
    # A week of March: five days of 8 hours.
    assert business_minutes_between(cn, local(2026, 3, 9), local(2026, 3, 16)) == 5 * 480
    # The same moment in UTC counts the same.
    utc_start = local(2026, 3, 11, 10).astimezone(ZoneInfo("UTC"))
    assert business_minutes_between(cn, utc_start, local(2026, 3, 11, 11)) == 60


def test_24x7(always):
    assert add_business_minutes(always, local(2026, 3, 13, 17), 480) == local(2026, 3, 14, 1)
    # Holidays do not stop it.
    assert add_business_minutes(always, local(2026, 2, 14, 20), 240) == local(2026, 2, 15, 0)
    assert business_minutes_between(always, local(2026, 2, 14), local(2026, 2, 24)) == 10 * 24 * 60


def test_round_trip_over_the_whole_year(cn):
    """For many starts and targets, the due time is reached after exactly the target's minutes,
    and one minute earlier is not yet due."""
    rng = random.Random(4)
    for _ in range(500):
        start = local(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        minutes = rng.choice([1, 30, 60, 240, 480, 1440, 4800, rng.randrange(1, 10_000)])
        due = add_business_minutes(cn, start, minutes)
        assert business_minutes_between(cn, start, due) == minutes
        assert business_minutes_between(cn, start, due - timedelta(minutes=1)) < minutes
        assert cn.is_working_day(cn.local_date(due - timedelta(seconds=1)))


def test_the_shipped_2026_list():
    data = json.loads((DATA_DIR / "cn_holidays_2026.json").read_text(encoding="utf-8"))
    entries = {date.fromisoformat(item["date"]): item["kind"] for item in data["holidays"]}
    workdays = sorted(day for day, kind in entries.items() if kind == HolidayKind.WORKDAY)
    assert workdays == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert all(day.weekday() >= 5 for day in workdays)
    holidays = [day for day, kind in entries.items() if kind == HolidayKind.HOLIDAY]
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert {date(2026, 2, 15), date(2026, 2, 23), date(2026, 10, 7), date(2026, 5, 5)} <= set(holidays)


def test_a_holiday_stops_a_24x7_calendar_too():
    spec = CalendarSpec.build(holidays=[date(2026, 3, 12)])
    assert add_business_minutes(spec, local(2026, 3, 11, 23), 120) == local(2026, 3, 13, 1)
    assert business_minutes_between(spec, local(2026, 3, 11), local(2026, 3, 14)) == 2 * 24 * 60


def test_an_adjusted_working_day_uses_monday_hours():
    spec = CalendarSpec.build(periods={0: [("08:00", "10:00")], 1: [("09:00", "17:00")]}, workdays=[date(2026, 3, 14)])
    # Saturday 14 March works Monday's 08:00–10:00, not Tuesday's hours.
    assert add_business_minutes(spec, local(2026, 3, 14, 7), 90) == local(2026, 3, 14, 9, 30)
    assert add_business_minutes(spec, local(2026, 3, 14, 7), 180) == local(2026, 3, 16, 9)


def test_time_is_real_time_across_a_daylight_saving_change():
    # Berlin moves its clocks from 02:00 to 03:00 on Sunday 29 March 2026.
    spec = CalendarSpec.build(time_zone="Europe/Berlin", periods={6: [("01:00", "04:00")]})
    berlin = ZoneInfo("Europe/Berlin")
    assert (
        business_minutes_between(spec, datetime(2026, 3, 29, tzinfo=berlin), datetime(2026, 3, 30, tzinfo=berlin))
        == 120
    )
    assert add_business_minutes(spec, datetime(2026, 3, 29, 0, 30, tzinfo=berlin), 90) == datetime(
        2026, 3, 29, 3, 30, tzinfo=berlin
    )


def test_a_calendar_that_never_works_says_so():
    mondays = [date(2026, 3, 16) + timedelta(weeks=n) for n in range(52 * 21)]
    spec = CalendarSpec.build(periods={0: [("09:00", "10:00")]}, holidays=mondays)
    with pytest.raises(NoWorkingTimeError):
        add_business_minutes(spec, local(2026, 3, 16), 10)
