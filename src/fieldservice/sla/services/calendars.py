"""Business calendars: weekly working hours, public holidays and adjusted working days (the
administrator's settings, and the shipped holiday files)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import DELETED, UPDATED, record_created, record_event, record_updated, snapshot
from fieldservice.sla.choices import HolidayKind, Weekday
from fieldservice.sla.models import BusinessCalendar, Holiday, WorkingPeriod
from fieldservice.sla.permissions import may_manage_sla
from fieldservice.sla.services.fields import check_text, only_default, raise_errors

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SHIPPED_FILE = "cn_holidays_{year}.json"
CALENDAR_FIELDS = ["name", "time_zone", "is_default"]

HoursInput = dict[int, Iterable[tuple[dt.time, dt.time]]]


def weekday_field(weekday: int) -> str:
    """The form field of a weekday's working hours ("monday")."""
    return Weekday(weekday).name.lower()


def hours_text(periods: Iterable[tuple[dt.time, dt.time]]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in periods)


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_time_zone(value: str, errors: dict) -> str:
    value = (value or "").strip()
    if value not in _time_zone_names():
        errors.setdefault("time_zone", []).append(
            ValidationError(
                _("“%(value)s” is not a time zone name such as Asia/Shanghai.") % {"value": value}, code="invalid"
            )
        )
    return value


def _check_hours(hours: HoursInput) -> dict[int, list[tuple[dt.time, dt.time]]]:
    """Sorted periods per weekday; an error names the weekday's field."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    for weekday, periods in hours.items():
        if weekday not in Weekday.values:
            raise field_error("hours", _("Unknown weekday."), "invalid_choice")
        field = weekday_field(weekday)
        spans = sorted(periods or ())
        for start, end in spans:
            if not isinstance(start, dt.time) or not isinstance(end, dt.time):
                errors.setdefault(field, []).append(ValidationError(_("Enter times as HH:MM."), code="invalid"))
                break
            if end <= start:
                errors.setdefault(field, []).append(
                    ValidationError(
                        _("%(start)s-%(end)s ends before it starts.")
                        % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                        code="ends_before_start",
                    )
                )
                break
        else:
            for (_start, previous_end), (start, end) in zip(spans, spans[1:], strict=False):
                if start < previous_end:
                    errors.setdefault(field, []).append(
                        ValidationError(
                            _("Working periods on %(day)s overlap (%(start)s-%(end)s).")
                            % {"day": Weekday(weekday).label, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                            code="overlap",
                        )
                    )
                    break
        cleaned[weekday] = spans
    raise_errors(errors)
    return cleaned


def calendar_hours(calendar: BusinessCalendar) -> dict[int, list[tuple[dt.time, dt.time]]]:
    hours: dict[int, list] = {weekday: [] for weekday in Weekday.values}
    for period in calendar.periods.all():
        hours[period.weekday].append((period.starts_at, period.ends_at))
    return hours


def _hours_summary(hours: dict[int, list]) -> str:
    return "; ".join(f"{Weekday(day).label} {hours_text(spans)}" for day, spans in sorted(hours.items()) if spans)


def _check_calendar(fields: dict, calendar: BusinessCalendar | None) -> dict:
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            value = check_text(value, "name", 100, errors)
            others = BusinessCalendar.objects.filter(name__iexact=value)
            if value and others.exclude(pk=calendar.pk if calendar else None).exists():
                errors.setdefault("name", []).append(
                    ValidationError(_("A calendar with this name exists."), code="duplicate")
                )
        elif name == "time_zone":
            value = _check_time_zone(value, errors)
        elif name == "is_default":
            value = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    raise_errors(errors)
    return cleaned


def _save_hours(calendar: BusinessCalendar, hours: dict[int, list]) -> None:
    calendar.periods.all().delete()
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=weekday, starts_at=start, ends_at=end)
        for weekday, spans in hours.items()
        for start, end in spans
    )


@transaction.atomic
def create_calendar(
    *,
    actor: User,
    name: str,
    time_zone: str = "Asia/Shanghai",
    is_default: bool = False,
    hours: HoursInput | None = None,
) -> BusinessCalendar:
    """A calendar with weekly working hours (none: 24×7). Made the default, it takes over."""
    require(may_manage_sla(actor))
    cleaned = _check_calendar({"name": name, "time_zone": time_zone, "is_default": is_default}, None)
    cleaned_hours = _check_hours(hours or {})
    if cleaned["is_default"]:
        BusinessCalendar.objects.filter(is_default=True).update(is_default=False)
    calendar = BusinessCalendar.objects.create(**cleaned)
    _save_hours(calendar, cleaned_hours)
    record_created(calendar, actor=actor, fields=CALENDAR_FIELDS, note=_hours_summary(cleaned_hours))
    return calendar


@transaction.atomic
def update_calendar(
    calendar: BusinessCalendar, *, actor: User, hours: HoursInput | None = None, **fields
) -> BusinessCalendar:
    """Change name, time zone, default and (given `hours`) the working hours, replacing them all.
    Clocks already running keep their due times; new clocks follow the change."""
    require(may_manage_sla(actor))
    cleaned = _check_calendar(fields, calendar)
    cleaned_hours = _check_hours(hours) if hours is not None else None
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    if cleaned.get("is_default") is False and calendar.is_default:
        raise field_error("is_default", _("Make another calendar the default instead."), "default_required")
    before = snapshot(calendar, CALENDAR_FIELDS)
    for name, value in cleaned.items():
        setattr(calendar, name, value)
    if cleaned.get("is_default"):
        only_default(BusinessCalendar, calendar)
    calendar.save()
    record_updated(calendar, actor=actor, before=before)
    if cleaned_hours is not None:
        old = _hours_summary(calendar_hours(calendar))
        new = _hours_summary({**{day: [] for day in Weekday.values}, **cleaned_hours})
        if old != new:
            _save_hours(calendar, cleaned_hours)
            record_event(calendar, actor=actor, action=UPDATED, changes={"working_hours": [old, new]})
    return calendar


def _check_holiday(fields: dict, errors: dict, prefix: str = "") -> dict:
    day = fields.get("date")
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            day = None
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        errors.setdefault("date", []).append(ValidationError(prefix + _("Enter a valid date."), code="invalid"))
    kind = fields.get("kind") or HolidayKind.HOLIDAY
    if kind not in HolidayKind.values:
        errors.setdefault("kind", []).append(
            ValidationError(prefix + _("Choose holiday or adjusted working day."), code="invalid_choice")
        )
    name = (fields.get("name") or "").strip()
    if not name or len(name) > 100:
        errors.setdefault("name", []).append(
            ValidationError(prefix + _("Give a name of at most 100 characters."), code="invalid")
        )
    return {"date": day, "kind": kind, "name": name}


@transaction.atomic
def add_holiday(calendar: BusinessCalendar, *, actor: User, date, kind: str, name: str) -> Holiday:
    """One public holiday or adjusted working day; one entry per date."""
    require(may_manage_sla(actor))
    errors: dict[str, list[ValidationError]] = {}
    cleaned = _check_holiday({"date": date, "kind": kind, "name": name}, errors)
    raise_errors(errors)
    existing = calendar.holidays.filter(date=cleaned["date"]).first()
    if existing is not None:
        raise field_error(
            "date",
            _("%(date)s is already on this calendar as “%(name)s”.") % {"date": existing.date, "name": existing.name},
            "duplicate",
        )
    holiday = Holiday.objects.create(calendar=calendar, **cleaned)
    record_created(holiday, actor=actor, fields=["date", "kind", "name"], related=calendar)
    return holiday


@transaction.atomic
def delete_holiday(holiday: Holiday, *, actor: User) -> None:
    require(may_manage_sla(actor))
    record_event(holiday, actor=actor, action=DELETED, related=holiday.calendar, note=str(holiday))
    holiday.delete()


def read_holiday_file(source) -> tuple[int | None, list[dict]]:
    """(year, entries) from a holiday file: {"year": 2026, "holidays": [{"date", "kind", "name"}]}
    or a bare list of entries. `source` is a path or text."""
    try:
        text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) else source
        data = json.loads(text)
    except (OSError, ValueError) as error:
        raise field_error("file", _("Cannot read the holiday file: %(error)s") % {"error": error}) from error
    if isinstance(data, list):
        return None, data
    if not isinstance(data, dict) or not isinstance(data.get("holidays"), list):
        raise field_error("file", _("The file needs a “holidays” list of date, kind and name."))
    year = data.get("year")
    return (year if isinstance(year, int) else None), data["holidays"]


@transaction.atomic
def load_holidays(calendar: BusinessCalendar, *, actor: User | None, entries: list, year: int | None = None) -> int:
    """Replace the calendar's holidays of the years in `entries` (or of `year`) with them. Every
    entry is checked first: one bad entry loads nothing. `actor=None` is the command line."""
    if actor is not None:
        require(may_manage_sla(actor))
    cleaned, problems, seen = [], [], set()
    for number, entry in enumerate(entries, start=1):
        errors: dict[str, list[ValidationError]] = {}
        prefix = _("Entry %(n)d: ") % {"n": number}
        item = _check_holiday(entry if isinstance(entry, dict) else {}, errors, prefix)
        for messages in errors.values():
            problems.extend(error.message for error in messages)
        if item["date"] is not None and not errors:
            if item["date"] in seen:
                problems.append(prefix + _("%(date)s appears twice.") % {"date": item["date"]})
            elif year is not None and item["date"].year != year:
                problems.append(prefix + _("%(date)s is not in %(year)d.") % {"date": item["date"], "year": year})
            seen.add(item["date"])
            cleaned.append(item)
    if not entries:
        problems.append(_("The file has no holidays."))
    if problems:
        raise ValidationError({"file": [ValidationError(message, code="invalid") for message in problems[:20]]})
    years = {item["date"].year for item in cleaned} | ({year} if year else set())
    calendar.holidays.filter(date__year__in=years).delete()
    Holiday.objects.bulk_create(Holiday(calendar=calendar, **item) for item in cleaned)
    record_event(
        calendar,
        actor=actor,
        action="holidays_loaded",
        note=_("%(count)d entries for %(years)s")
        % {"count": len(cleaned), "years": ", ".join(map(str, sorted(years)))},
    )
    return len(cleaned)


def shipped_holiday_years() -> list[int]:
    """Years of Chinese public holidays shipped with the application."""
    years = []
    for path in DATA_DIR.glob(SHIPPED_FILE.format(year="*")):
        suffix = path.stem.rsplit("_", 1)[-1]
        if suffix.isdigit():
            years.append(int(suffix))
    return sorted(years)


def load_shipped_holidays(calendar: BusinessCalendar, *, actor: User | None, year: int) -> int:
    if year not in shipped_holiday_years():
        raise field_error("year", _("No holiday list is shipped for %(year)s.") % {"year": year}, "invalid_choice")
    _file_year, entries = read_holiday_file(DATA_DIR / SHIPPED_FILE.format(year=year))
    return load_holidays(calendar, actor=actor, entries=entries, year=year)
