"""Document numbers of the billing app: a prefix, the year and a serial (QT2026-00012)."""

from __future__ import annotations

import datetime as dt

from django.db.models.functions import Length
from django.utils import timezone

PREFIXES = {"quotation": "QT", "bill": "BL", "statement": "ST"}


def next_number(model, kind: str, on: dt.date | None = None, *, field: str = "number") -> str:
    """The next free number of the series; the unique column catches a clash between two writers
    (the caller retries in a savepoint)."""
    on = on or timezone.localdate()
    prefix = f"{PREFIXES[kind]}{on.year}-"
    last = (
        model.objects.filter(**{f"{field}__startswith": prefix})
        .order_by(Length(field).desc(), f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    serial = 1
    if last:
        tail = last[len(prefix) :]
        serial = (
            int(tail) + 1 if tail.isdigit() else model.objects.filter(**{f"{field}__startswith": prefix}).count() + 1
        )
    return f"{prefix}{serial:05d}"
