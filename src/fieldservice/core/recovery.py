"""What every worker's scheduler runs every few seconds (FSM_SCHEDULER_TICK): give back what
dead workers held and re-drive what a crash left without a task.

There is no stall timer and no per-minute cap: a worker killed between the outbox drain's commit
and its enqueues leaves rows whose destinations have no pump; the next look, seconds later, asks
for one pump per such destination, whatever the number of rows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from fieldservice.core import destinations, outbox, workers
from fieldservice.core.models import OutboxMessage

logger = logging.getLogger(__name__)

# An outbox message due this long and not yet handed over lost its drain with a worker.
OUTBOX_GRACE = timedelta(seconds=5)


def recover(now=None) -> dict:
    now = now or timezone.now()
    dead = workers.bury_dead(now)
    outbox_waiting = OutboxMessage.objects.filter(
        processed_at__isnull=True, available_at__lte=now - OUTBOX_GRACE, attempts__lt=outbox.MAX_ATTEMPTS
    ).exists()
    if outbox_waiting:
        outbox.enqueue_drain()
    return {"dead_workers": dead, "outbox": outbox_waiting, **destinations.recover(now)}
