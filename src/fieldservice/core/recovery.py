"""Recovery of work that stopped half-way, run by every worker's scheduler on each tick.

Each step finds its work from database state and claims it with a compare-and-set, so any number
of workers may run `recover` at once and each stranded piece is picked up once.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from fieldservice.core import workers


def recover(now: datetime | None = None) -> dict:
    """Run every recovery step; returns what each one did, by step."""
    now = now or timezone.now()
    return {
        # Workers that stopped beating: their running tasks are failed and enqueued again, and
        # what they held is released.
        "dead_workers": workers.bury_dead(now),
    }
