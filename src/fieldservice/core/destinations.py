"""Sending deliveries: one pump per destination, a bound on attempts in flight, a circuit breaker.

A destination is where deliveries go: a webhook subscription, the SMS gateway, the IM robots,
the mail server, the in-app inbox. A task per delivery let one receiver that hangs take every
worker in turn (each of its deliveries held a worker for the whole timeout, and every retry wave
did it again), so the SMS telling an engineer about an urgent order waited behind a customer's
broken integration. Here the unit of work is the destination:

- New deliveries ask for a pump of their destination (`request_pump`). A pump task takes a slot
  of the destination (at most FSM_DESTINATION_SLOTS while it answers, one until its first
  success and while it fails), sends its due deliveries one after another for a short while,
  then puts itself at the back of its queue if more are waiting. Notification pumps run in the
  "notifications" queue, which every worker takes first; webhook pumps in "default", first come
  first served with the outbox drain. (A queue of their own, taken last, starved them whenever
  one worker was left to keep up with the staff's notifications.)
- A failed attempt stops the pump and the destination waits (1, 2, 4, 8 s). After
  FSM_CIRCUIT_FAILURES failures in a row the circuit opens: nothing is tried for 30 s, 1 min,
  2 min … (at most FSM_CIRCUIT_MAX_PAUSE_SECONDS), then one delivery probes it; the
  administrators are told when it opens and when it works again.
- Nothing is lost when a worker dies: deliveries are claimed with a lease, slots
  expire, and `recover` (run by every worker's scheduler every few seconds) gives back what a
  dead worker held and asks for a pump for every destination with due deliveries and none running.

Apps register what they send with `register_kind`; this module knows no app.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.core import workers
from fieldservice.core.models import CircuitState, Destination, DestinationSlot

logger = logging.getLogger(__name__)

# A pump sends for about this long, then yields its worker to whatever else is queued.
PUMP_SECONDS = 2.0
BATCH = 50
# A pump asked for this long ago that has not started is taken as lost with its worker.
LOST_AFTER = timedelta(seconds=10)
FIRST_PAUSE = timedelta(seconds=30)


@dataclass(frozen=True)
class Attempt:
    """What trying one delivery did. `destination_failed`: the receiver was reached (or tried)
    and did not take it; a delivery that fails on its own (no address on file) does not count
    against its destination."""

    result: str  # "sent", "retry", "failed" or "skipped" (someone else has it, or it is not due)
    destination_failed: bool = False
    error: str = ""


@dataclass(frozen=True)
class Kind:
    # The destination keys are these prefixes, or "<prefix>:<id>".
    prefixes: tuple[str, ...]
    queue: str
    priority: int
    label: Callable[[str], str]
    # Claims up to `limit` due deliveries of one destination, oldest first, for this pump: each
    # becomes "sending" with a lease (one statement for all), and is returned ready to send.
    claim: Callable[[str, datetime, int], list]
    # Tries one claimed delivery.
    attempt: Callable[[object], Attempt]
    # Puts claimed deliveries this pump will not try back to pending, their attempt not counted.
    give_back: Callable[[list], None]
    # Whether one destination has due deliveries.
    has_due: Callable[[str, datetime], bool]
    # The destinations that have due deliveries.
    due_keys: Callable[[datetime], Iterable[str]]
    # Deliveries still "sending" after their lease go back to pending; returns how many.
    release_expired: Callable[[datetime], int]


# The statuses every delivery model uses (notifications and webhooks alike).
PENDING, SENDING, FAILED = "pending", "sending", "failed"


def claim(due, now, limit: int, *related: str) -> list:
    """Claim the oldest `limit` rows of the `due` queryset (pending and due deliveries of one
    destination) for a pump: one statement makes them "sending" with this pump's lease and counts
    the attempt; they come back oldest first with `related` loaded."""
    ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    token = claim_token(now)
    model = due.model
    model.objects.filter(pk__in=ids, status=PENDING).update(
        status=SENDING, attempts=F("attempts") + 1, lease_until=token
    )
    claimed = model.objects.select_related(*related).filter(pk__in=ids, status=SENDING, lease_until=token)
    return sorted(claimed, key=lambda delivery: (delivery.next_attempt_at, delivery.pk))


def give_back(deliveries: list) -> None:
    """Claimed deliveries this pump will not try go back to pending, their attempt not counted."""
    for delivery in deliveries:
        type(delivery).objects.filter(pk=delivery.pk, status=SENDING, attempts=delivery.attempts).update(
            status=PENDING, attempts=F("attempts") - 1, lease_until=None
        )


def release_expired(model, now, max_attempts: int) -> int:
    """Deliveries of `model` still "sending" after their lease belonged to a worker that died
    mid-send: they are sent again (the same delivery id, so the receiver can tell), or failed if
    that was their last attempt. Their next_attempt_at stays as it was: due at once."""
    sending = model.objects.filter(status=SENDING, lease_until__lt=now)
    failed = sending.filter(attempts__gte=max_attempts).update(
        status=FAILED, lease_until=None, last_error=_("The worker stopped while sending, on the last attempt.")
    )
    return failed + sending.update(status=PENDING, lease_until=None)


def claim_token(now) -> datetime:
    """The lease end a pump writes on the deliveries it claims, and then finds them by: unique
    to the microsecond among pumps claiming at the same moment (and two claims never take the
    same row: each only takes rows still pending)."""
    return now + lease() + timedelta(microseconds=secrets.randbelow(1_000_000))


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    for prefix in kind.prefixes:
        _kinds[prefix] = kind


def kind_of(key: str) -> Kind:
    return _kinds[key.split(":", 1)[0]]


def kinds() -> list[Kind]:
    unique = []
    for kind in _kinds.values():
        if kind not in unique:
            unique.append(kind)
    return unique


def label(key: str) -> str:
    try:
        return kind_of(key).label(key)
    except KeyError:
        return key


def lease() -> timedelta:
    return timedelta(seconds=settings.FSM_DELIVERY_LEASE_SECONDS)


# --- asking for a pump ------------------------------------------------------------------------


_collected: ContextVar[set | None] = ContextVar("pump_requests_collected", default=None)


@contextmanager
def pump_requests_collected():
    """Collect the pump requests of a batch of work instead of making each at its commit: the
    outbox drain hands a hundred messages over in one transaction, and each would ask for the
    same few pumps again. The caller requests the collected keys once, after its commit."""
    keys: set[str] = set()
    token = _collected.set(keys)
    try:
        yield keys
    finally:
        _collected.reset(token)


def request_pumps_after_commit(keys: Iterable[str]) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.update(keys)
        return
    for key in sorted(set(keys)):
        transaction.on_commit(lambda key=key: request_pump(key))


def request_pump(key: str, now=None) -> bool:
    """Put a pump for `key` in its queue unless one is already waiting there. While the
    destination pauses (failing or open), the pump is deferred to the end of the pause.
    Returns whether a task was enqueued. A failed enqueue is left to `recover`."""
    now = now or timezone.now()
    destination, _created = Destination.objects.get_or_create(key=key)
    when = now
    if destination.state != CircuitState.CLOSED and destination.retry_at and destination.retry_at > now:
        when = destination.retry_at
    waiting = Q(pump_enqueued_at__isnull=False) & Q(pump_enqueued_at__gte=now - LOST_AFTER)
    if not Destination.objects.filter(pk=destination.pk).exclude(waiting).update(pump_enqueued_at=when):
        return False
    return _enqueue(key, when if when > now else None)


def _enqueue(key: str, run_after) -> bool:
    from fieldservice.core.tasks import prioritised, pump_destination

    kind = kind_of(key)
    try:
        task = prioritised(pump_destination.using(queue_name=kind.queue), kind.priority)
        if run_after is not None:
            if not task.get_backend().supports_defer:
                # `recover` asks again once the pause is over.
                Destination.objects.filter(key=key, pump_enqueued_at=run_after).update(pump_enqueued_at=None)
                return False
            task = task.using(run_after=run_after)
        task.enqueue(key)
    except Exception:
        logger.exception("Could not enqueue the pump of %s", key)
        return False
    return True


# --- slots ------------------------------------------------------------------------------------


def _allowed_slots(destination: Destination, now) -> int:
    if destination.state == CircuitState.CLOSED:
        # A destination that never answered yet gets one attempt at a time: a new receiver that
        # hangs must not take two workers at once before its first failure is even known.
        return settings.FSM_DESTINATION_SLOTS if destination.last_success_at else 1
    if destination.retry_at and destination.retry_at > now:
        return 0
    if destination.state == CircuitState.OPEN:
        # The pause is over: this pump is the probe, if it wins the change to half-open.
        won = Destination.objects.filter(pk=destination.pk, state=CircuitState.OPEN).update(
            state=CircuitState.HALF_OPEN
        )
        return 1 if won else 0
    return 1  # failing or half-open: one attempt at a time


def _take_slot(destination: Destination, holder: str, now) -> DestinationSlot | None:
    allowed = _allowed_slots(destination, now)
    DestinationSlot.objects.filter(destination=destination, until__lt=now).delete()
    for number in range(allowed):
        try:
            with transaction.atomic():
                return DestinationSlot.objects.create(
                    destination=destination, slot=number, holder=holder[:100], until=now + lease()
                )
        except IntegrityError:
            continue
    return None


def release_held_by(holder: str) -> int:
    """Free the slots of a worker that died (registered with `core.workers`)."""
    deleted, _ = DestinationSlot.objects.filter(holder=holder).delete()
    return deleted


workers.register_release_hook(release_held_by)


# --- the circuit ------------------------------------------------------------------------------


def _pause_after(failures: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(failures - 1, 0), 30))


def record_failure(key: str, error: str, now=None) -> Destination:
    now = now or timezone.now()
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(key=key)
        destination.failures += 1
        destination.last_error = error[:2000]
        destination.last_failure_at = now
        opened = False
        if destination.state == CircuitState.HALF_OPEN or destination.failures >= settings.FSM_CIRCUIT_FAILURES:
            opened = destination.state not in (CircuitState.OPEN, CircuitState.HALF_OPEN)
            destination.trips += 1
            longest = timedelta(seconds=settings.FSM_CIRCUIT_MAX_PAUSE_SECONDS)
            pause = min(FIRST_PAUSE * 2 ** (destination.trips - 1), longest)
            destination.state = CircuitState.OPEN
            destination.retry_at = now + pause
            if opened:
                destination.opened_at = now
        else:
            destination.state = CircuitState.FAILING
            destination.retry_at = now + _pause_after(destination.failures)
        destination.save()
        if opened:
            _announce("destination.opened", destination, now)
    return destination


def record_success(key: str, now=None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(key=key)
        recovered = destination.state in (CircuitState.OPEN, CircuitState.HALF_OPEN)
        destination.state = CircuitState.CLOSED
        destination.failures = 0
        destination.trips = 0
        destination.retry_at = None
        destination.last_success_at = now
        destination.save()
        if recovered:
            _announce("destination.recovered", destination, now)
            destination.opened_at = None
            destination.save(update_fields=["opened_at"])


def _announce(topic: str, destination: Destination, now) -> None:
    from fieldservice.core.outbox import emit

    emit(
        topic,
        {"destination": destination.key, "label": label(destination.key), "error": destination.last_error[:500]},
        key=f"{topic}:{destination.key}:{(destination.opened_at or now).isoformat()}",
    )


def reset(key: str) -> None:
    """The administrator changed where the destination points, or turned it back on: forget its
    failures and try its waiting deliveries now."""
    # A pump deferred to the end of the pause is waiting in the queue: the new one must not
    # be taken for it, or nothing is tried before that pause would have ended.
    Destination.objects.filter(key=key).update(
        state=CircuitState.CLOSED, failures=0, trips=0, retry_at=None, opened_at=None, pump_enqueued_at=None
    )
    request_pumps_after_commit([key])


def forget(key: str) -> None:
    Destination.objects.filter(key=key).delete()


def state_of(key: str) -> Destination | None:
    return Destination.objects.filter(key=key).first()


# --- the pump ---------------------------------------------------------------------------------


def pump(key: str, *, seconds: float = PUMP_SECONDS) -> dict:
    """Send the due deliveries of one destination for about `seconds`. Run by the
    `pump_destination` task; safe to run in any number of workers at once."""
    kind = kind_of(key)
    now = timezone.now()
    destination, _created = Destination.objects.get_or_create(key=key)
    # Started: a new delivery from now on may enqueue another pump.
    Destination.objects.filter(pk=destination.pk, pump_enqueued_at__lte=now).update(pump_enqueued_at=None)
    slot = _take_slot(destination, workers.current_name(), now)
    if slot is None:
        pausing = destination.state != CircuitState.CLOSED and destination.retry_at and destination.retry_at > now
        if not pausing:
            # Another pump holds the slots (while failing or probing, the one slot): it looks
            # again when it ends. Asking for a pump here would run one at once, find the slot
            # still held, and ask again, as fast as the workers take them.
            return {"destination": key, "result": "busy"}
        request_pump(key)  # deferred to the end of the pause
        return {"destination": key, "result": "paused"}
    sent = tried = 0
    more = failed = False
    started = renewed = time.monotonic()
    # A claimed batch is sent before its lease ends: one attempt may take the whole deadline.
    batch_seconds = settings.FSM_DELIVERY_LEASE_SECONDS - settings.FSM_DELIVERY_DEADLINE_SECONDS
    try:
        while not (more or failed):
            # A destination not known to answer gets one delivery at a time: a batch claimed for
            # a receiver that hangs would only sit "sending" until the first attempt fails.
            answering = destination.state == CircuitState.CLOSED and destination.last_success_at
            claimed = kind.claim(key, timezone.now(), BATCH if answering or sent else 1)
            if not claimed:
                break
            claimed_at = time.monotonic()
            for index, item in enumerate(claimed):
                now_monotonic = time.monotonic()
                if now_monotonic - started > seconds or now_monotonic - claimed_at > batch_seconds:
                    kind.give_back(claimed[index:])
                    more = True
                    break
                outcome = kind.attempt(item)
                if outcome.result == "skipped":
                    continue
                tried += 1
                if outcome.destination_failed:
                    kind.give_back(claimed[index + 1 :])
                    record_failure(key, outcome.error)
                    failed = True
                    break
                if outcome.result == "sent":
                    if sent == 0:
                        record_success(key)
                    sent += 1
                if now_monotonic - renewed > settings.FSM_DELIVERY_LEASE_SECONDS / 4:
                    DestinationSlot.objects.filter(pk=slot.pk).update(until=timezone.now() + lease())
                    renewed = now_monotonic
    finally:
        DestinationSlot.objects.filter(pk=slot.pk).delete()
    # After the slot is free: a delivery that came while this pump was finishing is seen here,
    # or by the pump its own commit asked for.
    if failed or more or kind.has_due(key, timezone.now()):
        request_pump(key)
    result = "failed" if failed else "more" if more else "done"
    return {"destination": key, "result": result, "sent": sent, "tried": tried}


# --- recovery ---------------------------------------------------------------------------------


def recover(now=None) -> dict:
    """Give back what dead workers left and ask for a pump wherever due deliveries wait with
    none running or queued. Cheap and idempotent: every worker runs it every few seconds."""
    now = now or timezone.now()
    released = sum(kind.release_expired(now) for kind in kinds())
    DestinationSlot.objects.filter(until__lt=now).delete()
    busy = set(DestinationSlot.objects.values_list("destination__key", flat=True))
    due = set()
    for kind in kinds():
        due.update(kind.due_keys(now))
    pumps = [key for key in sorted(due - busy) if request_pump(key, now)]
    return {"released": released, "pumps": pumps}
