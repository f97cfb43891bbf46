"""The months of the readings table on PostgreSQL: made as readings for them arrive, dropped whole
once past the retention (`FSM_IOT_RETENTION_DAYS`). Elsewhere readings live in one table and the
retention deletes rows."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

TABLE = "iot_reading"
# One key for every process that makes or drops months: two ingest processes seeing the first
# reading of a new month at once make it once.
LOCK_KEY = 0x107_2EAD


def month_of(moment: dt.datetime) -> dt.date:
    moment = timezone.localtime(moment, dt.UTC)
    return dt.date(moment.year, moment.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


# The months this process knows exist (a new month costs one statement, once).
_known: set[dt.date] = set()


def retention_days() -> int:
    return int(getattr(settings, "FSM_IOT_RETENTION_DAYS", 400))


def ensure_months(moments) -> None:
    """Make the month partitions that readings at `moments` need (PostgreSQL; nothing elsewhere)."""
    if connection.vendor != "postgresql":
        return
    months = {month_of(moment) for moment in moments} - _known
    if not months:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for month in sorted(months):
            start = dt.datetime.combine(month, dt.time(), dt.UTC)
            end = dt.datetime.combine(next_month(month), dt.time(), dt.UTC)
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{partition_name(month)}" PARTITION OF "{TABLE}" '  # noqa: S608
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    # Known only once committed: a rolled-back caller's month is made again next time.
    transaction.on_commit(lambda: _known.update(months))


def existing_months() -> list[dt.date]:
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        tail = name.removeprefix(f"{TABLE}_y")
        if len(tail) == 7 and tail[4] == "m" and tail[:4].isdigit() and tail[5:].isdigit():
            months.append(dt.date(int(tail[:4]), int(tail[5:]), 1))
    return sorted(months)


def apply_retention(*, now: dt.datetime | None = None) -> int:
    """Drop the months (PostgreSQL) or delete the readings (elsewhere) older than the retention.
    Returns how many months were dropped, or rows deleted."""
    from fieldservice.iot.models import Reading

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    if connection.vendor != "postgresql":
        deleted, _ = Reading.objects.filter(at__lt=cutoff).delete()
        return deleted
    dropped = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for month in existing_months():
            end = dt.datetime.combine(next_month(month), dt.time(), dt.UTC)
            if end <= cutoff:
                cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(month)}"')
                _known.discard(month)
                dropped += 1
    return dropped
