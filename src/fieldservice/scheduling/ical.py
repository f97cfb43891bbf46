"""An engineer's visits as an iCalendar feed (RFC 5545), written by hand: it is a few lines of
text, and the rules that calendar apps are strict about are all here: CRLF line ends, lines
folded at 75 octets (never inside a UTF-8 character), escaped text, times in UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.utils import timezone

from fieldservice.scheduling.models import Visit

CRLF = "\r\n"
MAX_OCTETS = 75
PRODID = "-//fieldservice//Visits//EN"
# Which visits the feed carries: the recent past (for reference) and what is planned ahead.
DAYS_BACK = 30
DAYS_AHEAD = 90
# Not the request's host: the same visit must keep its UID whichever address the feed is read from.
UID_DOMAIN = "visits.fieldservice"


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash first, then ; and , and line breaks."""
    value = (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets; each continuation starts with a
    space, which counts towards its 75. A UTF-8 character is never cut."""
    pieces: list[str] = []
    current, size, limit = [], 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return (CRLF + " ").join(pieces)


def utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def feed_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - dt.timedelta(days=DAYS_BACK), now + dt.timedelta(days=DAYS_AHEAD)


def site_address(order) -> str:
    site = order.site
    if site is None:
        return ""
    address = site.full_address
    return f"{site.name}, {address}" if site.name else address


def visit_uid(visit: Visit, domain: str) -> str:
    # Stable across fetches and reschedules: calendar apps update the event instead of adding one.
    return f"visit-{visit.pk}@{domain}"


def _event(visit: Visit, *, now: dt.datetime, domain: str, order_url: Callable[[Visit], str] | None) -> list[str]:
    order = visit.work_order
    summary = f"{order.number} {order.customer.name}"
    description = order.description or ""
    if order.fault_category_id:
        description = f"{order.fault_category.name}: {description}" if description else order.fault_category.name
    lines = [
        "BEGIN:VEVENT",
        f"UID:{visit_uid(visit, domain)}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"LAST-MODIFIED:{utc_stamp(visit.updated_at)}",
        f"SEQUENCE:{max(visit.version - 1, 0)}",
        f"DTSTART:{utc_stamp(visit.planned_start)}",
        f"DTEND:{utc_stamp(visit.planned_end)}",
        f"SUMMARY:{escape_text(summary)}",
    ]
    location = site_address(order)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if order_url is not None:
        lines.append(f"URL:{order_url(visit)}")
    # Cancelled visits are left out of the feed, which removes them from the subscriber's calendar.
    lines.append("STATUS:CONFIRMED")
    lines.append("END:VEVENT")
    return lines


def render_calendar(
    visits: Iterable[Visit],
    *,
    name: str,
    domain: str,
    now: dt.datetime | None = None,
    order_url: Callable[[Visit], str] | None = None,
) -> str:
    now = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for visit in visits:
        lines.extend(_event(visit, now=now, domain=domain, order_url=order_url))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
