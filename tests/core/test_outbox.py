"""The outbox: messages leave after the commit, once per key, and a failing consumer retries
without losing the others."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from fieldservice.core import outbox
from fieldservice.core.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(monkeypatch):
    """Replace the consumers by one that records what it is handed."""
    seen = []

    def consume(message):
        if message.payload.get("explode"):
            raise RuntimeError("consumer broke")
        seen.append((message.topic, message.payload))

    monkeypatch.setattr(outbox, "_registered_consumers", lambda: ([consume], []))
    return seen


def test_nothing_is_consumed_before_the_commit(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.emit("thing.happened", {"n": 1})
        assert received == []
    assert received == [("thing.happened", {"n": 1})]
    assert OutboxMessage.objects.get().processed_at is not None


def test_a_rolled_back_transaction_emits_nothing(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            outbox.emit("thing.happened", {"n": 1})
            1 / 0  # noqa: B018
        outbox.emit("thing.happened", {"n": 2})
    assert received == [("thing.happened", {"n": 2})]
    assert OutboxMessage.objects.count() == 1


def test_a_key_is_stored_once(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = outbox.emit("reminder", {"n": 1}, key="reminder:1")
        second = outbox.emit("reminder", {"n": 1}, key="reminder:1")
        new = outbox.emit_many([("reminder", {"n": 1}, "reminder:1"), ("reminder", {"n": 2}, "reminder:2")])
    assert first is not None and second is None and new == 1
    assert received == [("reminder", {"n": 1}), ("reminder", {"n": 2})]


def test_a_failing_message_waits_and_the_others_go_on(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.emit("bad", {"explode": True})
        outbox.emit("good", {"n": 1})
    bad = OutboxMessage.objects.get(topic="bad")
    assert received == [("good", {"n": 1})]
    assert bad.processed_at is None and bad.attempts == 1 and "consumer broke" in bad.last_error
    assert bad.available_at > timezone.now() + timedelta(seconds=30)
    # Not yet due: a drain now leaves it alone; once due, it is tried again.
    assert outbox.drain() == 0 and OutboxMessage.objects.get(pk=bad.pk).attempts == 1
    OutboxMessage.objects.filter(pk=bad.pk).update(available_at=timezone.now(), payload={"fixed": True})
    assert outbox.drain() == 1
    assert received[-1] == ("bad", {"fixed": True})


def test_a_message_is_given_up_after_the_last_attempt(received):
    message = OutboxMessage.objects.create(topic="bad", payload={"explode": True})
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
        outbox.drain()
    message.refresh_from_db()
    assert message.attempts == outbox.MAX_ATTEMPTS and message.processed_at is None
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())
    outbox.drain()
    assert OutboxMessage.objects.get(pk=message.pk).attempts == outbox.MAX_ATTEMPTS


def test_a_batch_consumer_gets_the_batch_after_the_others_and_a_poison_message_alone(monkeypatch):
    order = []
    batches = []

    def consume(message):
        order.append(("each", message.payload["n"]))

    def consume_batch(messages):
        batches.append([m.payload["n"] for m in messages])
        order.append(("batch", len(messages)))
        if any(m.payload.get("poison") for m in messages):
            raise RuntimeError("batch consumer broke")

    monkeypatch.setattr(outbox, "_registered_consumers", lambda: ([consume], [consume_batch]))
    with outbox.drain_left_to_recovery():
        for n in range(1, 4):
            outbox.emit("thing.happened", {"n": n})
    assert outbox.drain() == 3
    # One call with the whole batch, after every message went through the others.
    assert batches == [[1, 2, 3]] and order[-1] == ("batch", 3) and order[:3] == [("each", n) for n in (1, 2, 3)]

    batches.clear()
    with outbox.drain_left_to_recovery():
        outbox.emit("thing.happened", {"n": 4})
        outbox.emit("thing.happened", {"n": 5, "poison": True})
        outbox.emit("thing.happened", {"n": 6})
    assert outbox.drain() == 2
    # The failed batch is tried again one message at a time: only the poison waits for a retry.
    assert batches == [[4, 5, 6], [4], [5], [6]]
    poison = OutboxMessage.objects.get(payload__n=5)
    assert poison.processed_at is None and poison.attempts == 1 and "batch consumer broke" in poison.last_error
    assert OutboxMessage.objects.filter(processed_at__isnull=False).count() == 5
