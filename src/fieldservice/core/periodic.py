"""Periodic checks, computed from database state.

Each check has a row in `PeriodicCheck` with the time it is next due. Every `fsm worker` runs a
small scheduler loop that calls `tick()`; a due check is claimed with a compare-and-set on
`next_due_at`, so with many workers exactly one enqueues it, and after a restart the overdue ones
run at once. The checks themselves are idempotent (keyed outbox messages), so a check that runs
twice sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from fieldservice.core.models import PeriodicCheck

logger = logging.getLogger(__name__)

# name -> (task, default interval in seconds), registered by the apps that own the checks.
# FSM_PERIODIC_SECONDS overrides an interval ({"sla.check": 30}).
CHECKS: dict[str, tuple[str, int]] = {}


def register(name: str, task_path: str, seconds: int) -> None:
    """Run the task at `task_path` every `seconds` (from an app's `ready()`)."""
    CHECKS[name] = (task_path, seconds)


def interval(name: str) -> timedelta:
    overrides = getattr(settings, "FSM_PERIODIC_SECONDS", {}) or {}
    return timedelta(seconds=overrides.get(name, CHECKS[name][1]))


def tick(now=None) -> list[str]:
    """Enqueue every check that is due. Returns the names this call claimed."""
    now = now or timezone.now()
    claimed = []
    for name, (task_path, _seconds) in CHECKS.items():
        check, _created = PeriodicCheck.objects.get_or_create(name=name, defaults={"next_due_at": now})
        if check.next_due_at > now:
            continue
        won = PeriodicCheck.objects.filter(pk=check.pk, next_due_at=check.next_due_at).update(
            next_due_at=now + interval(name), last_enqueued_at=now
        )
        if won != 1:
            continue  # another worker claimed it
        try:
            import_string(task_path).enqueue()
        except Exception:
            # Leave it due, so the next tick tries again.
            PeriodicCheck.objects.filter(pk=check.pk).update(next_due_at=now)
            logger.exception("Could not enqueue periodic check %s", name)
            continue
        claimed.append(name)
    return claimed
