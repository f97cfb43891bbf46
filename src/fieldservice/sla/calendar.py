"""Business time on a calendar: when the service clock runs.

A `CalendarSpec` is a business calendar loaded once (weekly working periods, public holidays,
adjusted working days, time zone). `add_business_minutes` and `business_minutes_between` walk it a
day at a time: each day's working intervals are worked out once (in UTC, so a daylight-saving
change counts real time) and a whole working day is taken or skipped in one step.

Rules:
- a calendar without working periods runs around the clock (24×7);
- a public holiday has no working time at all;
- an adjusted working day (调休) is worked with the calendar's Monday periods, even on a weekend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
# A calendar that has found no working time in this many days has none (all holidays).
MAX_DAYS = 366 * 20


class NoWorkingTimeError(ValueError):
    """The calendar never works, so no due time can be reached."""


Period = tuple[time, time]
Interval = tuple[datetime, datetime]


@dataclass
class CalendarSpec:
    time_zone: ZoneInfo
    # weekday (0 = Monday) -> working periods, sorted, not overlapping. Empty: 24×7.
    periods: dict[int, tuple[Period, ...]] = field(default_factory=dict)
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)
    calendar_id: int | None = None
    name: str = ""
    # date -> (working intervals in UTC, their total): each day is worked out once.
    _days: dict[date, tuple[tuple[Interval, ...], timedelta]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        time_zone: str = "Asia/Shanghai",
        periods: dict[int, Iterable[tuple[str | time, str | time]]] | None = None,
        holidays: dict[date, str] | Iterable[date] = (),
        workdays: dict[date, str] | Iterable[date] = (),
        **extra,
    ) -> CalendarSpec:
        """A spec from plain values ("09:00" or time objects), for tests and the bench."""

        def as_time(value):
            return value if isinstance(value, time) else time.fromisoformat(value)

        def as_dict(days):
            return dict(days) if isinstance(days, dict) else {day: "" for day in days}

        return cls(
            time_zone=ZoneInfo(time_zone),
            periods={
                weekday: tuple(sorted((as_time(start), as_time(end)) for start, end in spans))
                for weekday, spans in (periods or {}).items()
                if spans
            },
            holidays=as_dict(holidays),
            workdays=as_dict(workdays),
            **extra,
        )

    @property
    def round_the_clock(self) -> bool:
        return not self.periods and not self.holidays

    def day(self, day: date) -> tuple[tuple[Interval, ...], timedelta]:
        """The working intervals of a local date, as UTC datetimes, and their total."""
        cached = self._days.get(day)
        if cached is None:
            cached = self._days[day] = self._work_out(day)
        return cached

    def _work_out(self, day: date) -> tuple[tuple[Interval, ...], timedelta]:
        if day in self.holidays:
            return (), ZERO
        zone = self.time_zone
        if not self.periods:
            start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
            end = datetime.combine(day + ONE_DAY, time(0), tzinfo=zone).astimezone(UTC)
            return ((start, end),), end - start
        weekday = 0 if day in self.workdays else day.weekday()
        intervals = tuple(
            (
                datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
            )
            for start, end in self.periods.get(weekday, ())
        )
        return intervals, sum((end - start for start, end in intervals), ZERO)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.time_zone).date()

    def is_working_day(self, day: date) -> bool:
        return self.day(day)[1] > ZERO


def _as_delta(minutes: float | int | timedelta) -> timedelta:
    return minutes if isinstance(minutes, timedelta) else timedelta(minutes=minutes)


def add_business_time(spec: CalendarSpec, start: datetime, amount: timedelta) -> datetime:
    """The first moment at which `amount` of working time has passed since `start`."""
    zone = spec.time_zone
    start = start.astimezone(UTC)
    remaining = amount
    if remaining <= ZERO:
        return start.astimezone(zone)
    if spec.round_the_clock:
        return (start + remaining).astimezone(zone)
    day = spec.local_date(start)
    for _ in range(MAX_DAYS):
        intervals, total = spec.day(day)
        if total and intervals[-1][1] > start:
            if intervals[0][0] >= start and remaining > total:
                remaining -= total  # the whole day is worked and more is needed: skip it
            else:
                for period_start, period_end in intervals:
                    if period_end <= start:
                        continue
                    begin = max(period_start, start)
                    available = period_end - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(zone)
                    remaining -= available
        day += ONE_DAY
    raise NoWorkingTimeError(spec.name)


def add_business_minutes(spec: CalendarSpec, start: datetime, minutes: float | int | timedelta) -> datetime:
    """`start` plus `minutes` of working time, as an aware datetime in the calendar's zone. Landing
    exactly on the end of a working period gives that end (18:00), not the next morning."""
    return add_business_time(spec, start, _as_delta(minutes))


def business_time_between(spec: CalendarSpec, start: datetime, end: datetime) -> timedelta:
    """Working time from `start` to `end`; zero when `end` is not after `start`."""
    start = start.astimezone(UTC)
    end = end.astimezone(UTC)
    if end <= start:
        return ZERO
    if spec.round_the_clock:
        return end - start
    total = ZERO
    day = spec.local_date(start)
    last = spec.local_date(end)
    while day <= last:
        intervals, day_total = spec.day(day)
        if intervals:
            if intervals[0][0] >= start and intervals[-1][1] <= end:
                total += day_total
            else:
                for period_start, period_end in intervals:
                    overlap = min(period_end, end) - max(period_start, start)
                    if overlap > ZERO:
                        total += overlap
        day += ONE_DAY
    return total


def business_minutes_between(spec: CalendarSpec, start: datetime, end: datetime) -> float:
    """Working minutes from `start` to `end` (fractions of a minute included; 0 when reversed)."""
    return business_time_between(spec, start, end) / timedelta(minutes=1)


def load_calendars(calendar_ids: Iterable[int]) -> dict[int, CalendarSpec]:
    """Specs of several calendars, in three queries whatever their number."""
    from fieldservice.sla.choices import HolidayKind
    from fieldservice.sla.models import BusinessCalendar, Holiday, WorkingPeriod

    ids = set(calendar_ids)
    if not ids:
        return {}
    specs = {
        pk: CalendarSpec(time_zone=ZoneInfo(zone), calendar_id=pk, name=name)
        for pk, zone, name in BusinessCalendar.objects.filter(pk__in=ids).values_list("pk", "time_zone", "name")
    }
    periods: dict[int, dict[int, list[Period]]] = {}
    for calendar_id, weekday, start, end in WorkingPeriod.objects.filter(calendar_id__in=ids).values_list(
        "calendar_id", "weekday", "starts_at", "ends_at"
    ):
        periods.setdefault(calendar_id, {}).setdefault(weekday, []).append((start, end))
    for calendar_id, by_day in periods.items():
        specs[calendar_id].periods = {weekday: tuple(sorted(spans)) for weekday, spans in by_day.items()}
    for calendar_id, day, kind, name in Holiday.objects.filter(calendar_id__in=ids).values_list(
        "calendar_id", "date", "kind", "name"
    ):
        spec = specs[calendar_id]
        (spec.workdays if kind == HolidayKind.WORKDAY else spec.holidays)[day] = name
    return specs


def load_calendar(calendar) -> CalendarSpec:
    """The spec of one BusinessCalendar (or its pk)."""
    pk = getattr(calendar, "pk", calendar)
    return load_calendars([pk])[pk]
