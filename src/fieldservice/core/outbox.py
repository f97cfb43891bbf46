"""The one door for side effects: an outbox row written in the caller's transaction.

    emit("work_order.created", {"work_order": order.pk})

After the commit, a task drains the outbox: each message goes to every consumer the apps
registered (`register_consumer`, from their `ready()`), in one transaction per message.
Consumers only write rows (notifications, deliveries) and enqueue their own tasks after commit;
anything that talks to the network runs in those tasks, so a slow or failing receiver never
blocks or undoes the business transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from fieldservice.core.db import insert_rows
from fieldservice.core.models import Destination, OutboxMessage

logger = logging.getLogger(__name__)

# Every consumer gets every message and ignores the topics it does not handle; they run in the
# order the apps registered them. Batch consumers run after them, once per drained batch.
_consumers: list[Callable] = []
_batch_consumers: list[Callable] = []


def register_consumer(consume: Callable) -> None:
    """`consume(message)` gets every message, in the message's own savepoint."""
    if consume not in _consumers:
        _consumers.append(consume)


def register_batch_consumer(consume: Callable) -> None:
    """`consume(messages)` gets the messages of a drained batch at once, after the per-message
    consumers (so they describe what a message is about before a batch consumer moves it: the
    rule pass dispatches the new orders the notifications announced). If it raises, it gets the
    messages again one at a time, and only a message that fails alone is retried later."""
    if consume not in _batch_consumers:
        _batch_consumers.append(consume)


# A message whose consumer raised waits this long times 2**attempts before the next try.
RETRY_BASE = timedelta(seconds=30)
MAX_ATTEMPTS = 8


def emit(topic: str, payload: dict | None = None, *, key: str | None = None) -> OutboxMessage | None:
    """Store a message for after the commit. With `key`, a second emit of the same key stores
    nothing and returns None."""
    payload = payload or {}
    if key is None:
        message = OutboxMessage.objects.create(topic=topic, payload=payload)
    else:
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(topic=topic, payload=payload, key=key)
        except IntegrityError:
            return None
    _drain_after_commit()
    return message


def emit_many(messages: list[tuple[str, dict, str | None]]) -> int:
    """Store many messages at once (periodic checks, a rule pass). Returns how many were new; a
    key stored before, by this or a concurrent check, is skipped, not doubled (None: no key)."""
    if not messages:
        return 0
    if connection.vendor == "postgresql" and all(key is None for _topic, _payload, key in messages):
        # Nothing to skip: written with COPY (a maintenance run's 23,000 "created" messages).
        now = timezone.now()
        insert_rows(
            OutboxMessage,
            [{"topic": topic, "payload": payload} for topic, payload, _key in messages],
            created_at=now,
            available_at=now,
        )
        stored = len(messages)
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(*_insert_many(messages))
            stored = cursor.rowcount
    else:
        keys = [key for _topic, _payload, key in messages if key is not None]
        existing = set(OutboxMessage.objects.filter(key__in=keys).values_list("key", flat=True))
        rows = [
            OutboxMessage(topic=topic, payload=payload, key=key)
            for topic, payload, key in messages
            if key not in existing
        ]
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        stored = len(rows)
    if stored:
        _drain_after_commit()
    return stored


def _insert_many(messages) -> tuple[str, list]:
    # Django bulk-inserts through arrays, and psycopg escapes each JSON payload into the array
    # literal in Python (~0.25 ms a message): one jsonb document is about ten times faster,
    # which is what keeps a full SLA check over 100k open orders under two seconds.
    now = timezone.now()
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    rows = json.dumps([{"topic": t, "key": k, "payload": p} for t, p, k in messages], default=str)
    return (
        f"INSERT INTO {table} (topic, key, payload, created_at, available_at, attempts, last_error) "
        "SELECT r.topic, r.key, r.payload, %s, %s, 0, '' FROM jsonb_to_recordset(%s::jsonb) "
        "AS r(topic text, key text, payload jsonb) ON CONFLICT (key) DO NOTHING",
        [now, now, rows],
    )


# The drain's "a task is waiting in the queue" mark, kept like a destination's pump mark: every
# business transaction asks for a drain, and a burst of orders would otherwise queue one task
# each, all but the first finding nothing, ahead of the notifications they hold up.
DRAIN_MARK = "outbox"
DRAIN_LOST_AFTER = timedelta(seconds=10)


def enqueue_drain() -> None:
    from fieldservice.core.tasks import drain_outbox

    now = timezone.now()
    waiting = Q(pump_enqueued_at__isnull=False) & Q(pump_enqueued_at__gte=now - DRAIN_LOST_AFTER)
    try:
        if not Destination.objects.filter(key=DRAIN_MARK).exclude(waiting).update(pump_enqueued_at=now):
            _mark, created = Destination.objects.get_or_create(key=DRAIN_MARK, defaults={"pump_enqueued_at": now})
            if not created:
                return  # a drain waits in the queue and will see this transaction's messages
        drain_outbox.enqueue()
    except Exception:  # core.recovery drains what a failed enqueue left behind
        logger.exception("Could not enqueue the outbox drain")


def drain_started(now=None) -> None:
    """From now on a new message needs a new drain: this one may have looked already."""
    Destination.objects.filter(key=DRAIN_MARK, pump_enqueued_at__lte=now or timezone.now()).update(
        pump_enqueued_at=None
    )


_drain_suppressed: ContextVar[bool] = ContextVar("outbox_drain_suppressed", default=False)


@contextmanager
def drain_left_to_recovery():
    """Store messages without enqueueing a drain for each transaction: bulk loads (the demo's
    history) that would otherwise enqueue thousands of drains; `core.recovery` drains them."""
    token = _drain_suppressed.set(True)
    try:
        yield
    finally:
        _drain_suppressed.reset(token)


def _drain_after_commit() -> None:
    # A drain that finds the messages already taken by another drain simply ends.
    if not _drain_suppressed.get():
        transaction.on_commit(enqueue_drain)


def _registered_consumers():
    return list(_consumers), list(_batch_consumers)


_batch_memo: ContextVar[dict | None] = ContextVar("outbox_batch_memo", default=None)


def batch_memo(key, compute):
    """What `compute()` returns, computed once per drain batch: the consumers look up the same
    things for every message of a batch (who the dispatchers are, the active subscriptions, the
    texts of an event), and a burst of orders comes in batches of a hundred. Outside a drain it
    just computes. Within one batch, one transaction, the answer does not go stale."""
    memo = _batch_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _consume(message, consumers, now) -> bool:
    try:
        with transaction.atomic():
            for consume in consumers:
                consume(message)
    except Exception as error:
        _failed(message, error, now)
        return False
    return True


def _consume_batch(messages: list, consume_batch, now) -> list:
    """The messages `consume_batch` took: all of them, or, when the batch fails, each that
    succeeds alone."""
    if not messages:
        return []
    try:
        with transaction.atomic():
            consume_batch(messages)
        return messages
    except Exception as error:
        if len(messages) == 1:
            _failed(messages[0], error, now)
            return []
        logger.warning("A batch of %s messages failed in %s; trying them one by one", len(messages), consume_batch)
    return [message for message in messages if _consume(message, [lambda m: consume_batch([m])], now)]


def _failed(message, error: BaseException, now) -> None:
    logger.error("Outbox message %s (%s) failed", message.pk, message.topic, exc_info=error)
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    message.available_at = now + RETRY_BASE * (2**message.attempts)
    message.save(update_fields=["attempts", "last_error", "available_at"])


def drain(*, batch: int = 25, now=None) -> int:
    """Hand every due message to the consumers. Safe to run in many workers at once: each
    batch is locked with SKIP LOCKED, so two drains never take the same message. A batch is
    small enough that its deliveries' pumps are asked for well under a second after the
    messages came, and large enough that the batch's lookups are shared (`batch_memo`)."""
    done = 0
    while True:
        handed = _drain_batch(batch)
        if handed is None:
            return done
        done += handed


def _drain_batch(batch: int) -> int | None:
    """One batch in one transaction; None when nothing was due."""
    from fieldservice.core import destinations

    consumers, batch_consumers = _registered_consumers()
    succeeded = []
    now = timezone.now()
    token = _batch_memo.set({})
    try:
        with destinations.pump_requests_collected() as pumps, transaction.atomic():
            messages = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(processed_at__isnull=True, available_at__lte=now, attempts__lt=MAX_ATTEMPTS)
                .order_by("pk")[:batch]
            )
            if not messages:
                return None
            consumed = [message for message in messages if _consume(message, consumers, now)]
            for consume_batch in batch_consumers:
                consumed = _consume_batch(consumed, consume_batch, now)
            succeeded = [message.pk for message in consumed]
            OutboxMessage.objects.filter(pk__in=succeeded).update(processed_at=now)
    finally:
        _batch_memo.reset(token)
    # Once per batch, after its commit (at once when no outer transaction is open). A key of
    # a message whose consumer failed only asks for a pump that finds nothing to send.
    destinations.request_pumps_after_commit(pumps)
    return len(succeeded)
