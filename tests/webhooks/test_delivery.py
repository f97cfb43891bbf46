"""Events from the real services reach a real local receiver: signed, once, with the documented
body; failures retry with back-off and end as failed; the recovery re-drives what a dead worker or a
lost pump left behind."""

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from fieldservice.core import destinations, outbox
from fieldservice.core.destinations import Attempt
from fieldservice.core.models import CircuitState, Destination, OutboxMessage
from fieldservice.webhooks import consumers, services
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.lifecycle import transition
from tests import factories
from tests.webhooks.conftest import make_due, signature_ok

STATUS_CHANGED = "work_order.status_changed"


def subscribe(world, url, *events, **fields):
    return factories.webhook_subscription(actor=world.admin, url=url, events=list(events), **fields)


def order_data(order: WorkOrder) -> dict:
    order.refresh_from_db()
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "priority": order.priority,
        "service_type": order.service_type,
        "customer": {"code": order.customer.code, "name": order.customer.name},
        "created_at": order.created_at.isoformat(),
    }


@pytest.fixture
def accepted_order(make_order):
    """An accepted order whose own events (created, dispatched, accepted) are already handed out,
    before any webhook existed."""
    order = make_order(until="accepted")
    outbox.drain()
    return order


def test_a_status_change_sends_one_signed_post_with_the_documented_body(
    world, accepted_order, receiver, django_capture_on_commit_callbacks
):
    hook = subscribe(world, receiver.url, STATUS_CHANGED)
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    message = OutboxMessage.objects.get(topic="work_order.transitioned", payload__to="travelling")
    assert request["path"] == "/hooks/fsm"
    assert request["headers"]["X-FSM-Event"] == STATUS_CHANGED
    assert request["headers"]["X-FSM-Delivery"] == f"wh-{delivery.pk}"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert signature_ok(request, hook.secret)
    assert not signature_ok(request, services.new_secret())
    assert receiver.json() == {
        "event": STATUS_CHANGED,
        "occurred_at": message.created_at.isoformat(),
        "data": {
            "work_order": order_data(accepted_order),
            "from": "accepted",
            "to": "travelling",
            "verb": "start_travel",
        },
    }
    assert receiver.json()["data"]["work_order"]["status"] == "travelling"
    assert delivery.payload == receiver.json()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SENT, 1, 200)
    assert delivery.response_excerpt == '{"ok": true}' and delivery.sent_at is not None
    assert delivery.message_id == message.pk and delivery.lease_until is None


def test_a_new_order_and_an_evaluation_are_sent(
    world, make_order, evaluate, receiver, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url, "work_order.created", "evaluation.received")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(until="completed")
    # Only the subscribed event: the order's moves to "completed" are not sent.
    assert [r["headers"]["X-FSM-Event"] for r in receiver.requests] == ["work_order.created"]
    created = receiver.json(0)["data"]["work_order"]
    assert created["id"] == order.pk and created["number"] == order.number
    assert created["customer"] == {"code": world.customer_a.code, "name": "Customer A"}

    with django_capture_on_commit_callbacks(execute=True):
        evaluation = evaluate(order, comment="Fast and tidy", timeliness=3)
    assert [r["headers"]["X-FSM-Event"] for r in receiver.requests] == ["work_order.created", "evaluation.received"]
    assert receiver.json()["data"] == {
        "work_order": order_data(order),
        "evaluation": {
            "id": evaluation.pk,
            "overall": 5,
            "timeliness": 3,
            "attitude": 5,
            "quality": 4,
            "comment": "Fast and tidy",
            "submitted_at": evaluation.submitted_at.isoformat(),
        },
    }


def test_an_sla_breach_sends_the_message_payload(world, receiver, django_capture_on_commit_callbacks):
    subscribe(world, receiver.url, "sla.breached")
    payload = {
        "work_order": 7,
        "number": "WO0000007",
        "target": "arrival",
        "due_at": "2025-03-04T12:15:00+00:00",
        "breached_at": "2025-03-04T12:16:00+00:00",
    }
    with django_capture_on_commit_callbacks(execute=True):
        outbox.emit("sla.breached", payload, key="sla:7:arrival")
    assert receiver.json()["event"] == "sla.breached"
    assert receiver.json()["data"] == payload


def test_paused_and_unsubscribed_webhooks_get_nothing(
    world, accepted_order, receiver, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url, STATUS_CHANGED, active=False)
    subscribe(world, receiver.url, "work_order.created", "sla.breached")
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_a_failure_is_retried_with_back_off_then_sent(
    world, accepted_order, receiver, django_capture_on_commit_callbacks
):
    hook = subscribe(world, receiver.url, STATUS_CHANGED)
    receiver.answers.extend([500, 503])
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.PENDING, 1, 500)
    assert "HTTP 500" in delivery.last_error and "receiver broke" in delivery.last_error
    assert before + timedelta(seconds=59) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=61)
    # The receiver failed, not the delivery alone: its destination counts it.
    destination = Destination.objects.get(key=services.destination_key(hook.pk))
    assert (destination.state, destination.failures) == (CircuitState.FAILING, 1)
    # Not due yet: another attempt (a second pump, the recovery) does nothing.
    assert services.attempt_delivery(delivery.pk) == Attempt("skipped")
    assert len(receiver.requests) == 1

    make_due(delivery)
    outcome = services.attempt_delivery(delivery.pk)
    assert (outcome.result, outcome.destination_failed) == ("retry", True) and "HTTP 503" in outcome.error
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.PENDING, 2, 503)
    assert timezone.now() + timedelta(seconds=119) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=121)

    make_due(delivery)
    assert services.attempt_delivery(delivery.pk) == Attempt("sent")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SENT, 3, 200)
    assert delivery.last_error == ""
    # Every try: the same body and the same delivery id, each signed.
    assert len(receiver.requests) == 3
    assert {r["headers"]["X-FSM-Delivery"] for r in receiver.requests} == {f"wh-{delivery.pk}"}
    assert {r["body"] for r in receiver.requests} == {receiver.requests[0]["body"]}
    assert all(signature_ok(r, hook.secret) for r in receiver.requests)


def test_back_off_doubles_up_to_six_hours():
    assert [services.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert services.backoff(9) == timedelta(hours=4, minutes=16)
    assert services.backoff(10) == services.backoff(30) == timedelta(hours=6)


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_is_down_does_not_stop_the_work_order(world, make_order, dead_url):
    """Real commits: the transition commits, then the delivery fails and waits for a retry."""
    order = make_order(until="accepted")
    subscribe(world, dead_url, STATUS_CHANGED)
    transition(order, "start_travel", actor=world.wang)
    assert WorkOrder.objects.get(pk=order.pk).status == "travelling"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.PENDING, 1, None)
    assert "refused" in delivery.last_error.lower() or "URLError" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert OutboxMessage.objects.filter(processed_at__isnull=True).count() == 0


@override_settings(FSM_WEBHOOK_MAX_ATTEMPTS=3)
def test_a_delivery_fails_after_the_last_attempt(world, accepted_order, receiver, django_capture_on_commit_callbacks):
    hook = subscribe(world, receiver.url, STATUS_CHANGED)
    receiver.answers.extend([500, 500, 500, 500])
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)
    delivery = WebhookDelivery.objects.get()
    outcomes = []
    for _ in range(2):
        make_due(delivery)
        outcomes.append(services.attempt_delivery(delivery.pk).result)
    assert outcomes == ["retry", "failed"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert len(receiver.requests) == 3 and "HTTP 500" in delivery.last_error
    # Failed is final: neither the recovery nor another attempt sends it again.
    recovered = destinations.recover(now=timezone.now() + timedelta(days=1))
    assert recovered["released"] == 0 and services.destination_key(hook.pk) not in recovered["pumps"]
    assert services.attempt_delivery(delivery.pk) == Attempt("skipped")
    assert len(receiver.requests) == 3


@pytest.fixture
def pending(world, receiver):
    """pending(): a new delivery written by the consumer whose task never ran (nothing committed)."""
    subscribe(world, receiver.url, "sla.breached")
    return _pending_delivery


def _pending_delivery() -> WebhookDelivery:
    message = outbox.emit("sla.breached", {"work_order": 1}, key=f"sla:{factories.seq()}")
    consumers.consume(message)
    return WebhookDelivery.objects.get(message_id=message.pk)


def test_the_recovery_resends_a_delivery_whose_worker_died(pending, receiver):
    delivery = pending()
    now = timezone.now()
    # A worker claimed it and died mid-POST: still "sending", lease over.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=now - timedelta(seconds=1)
    )
    busy = pending()
    WebhookDelivery.objects.filter(pk=busy.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=now + timedelta(seconds=15)
    )
    assert destinations.recover() == {"released": 1, "pumps": [services.destination_key(delivery.subscription_id)]}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    # Sent again with the same id, so the receiver can tell it is the one it may have had.
    assert [r["headers"]["X-FSM-Delivery"] for r in receiver.requests] == [delivery.key]
    assert receiver.json()["data"] == {"work_order": 1}
    # Another worker's attempt in flight is left alone.
    assert WebhookDelivery.objects.get(pk=busy.pk).status == DeliveryStatus.SENDING


@override_settings(FSM_WEBHOOK_MAX_ATTEMPTS=2)
def test_a_worker_dying_on_the_last_attempt_fails_the_delivery(pending, receiver):
    delivery = pending()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=2, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert destinations.recover() == {"released": 1, "pumps": []}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "stopped" in delivery.last_error
    assert receiver.requests == []


def test_the_recovery_asks_for_a_pump_where_due_deliveries_have_none(pending, receiver):
    """A worker killed between the drain's commit and its pump requests leaves due rows and no pump."""
    lost, later = pending(), pending()
    key = services.destination_key(lost.subscription_id)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=5))
    # A pump was asked for a moment ago and waits in the queue: not asked for twice.
    Destination.objects.create(key=key, pump_enqueued_at=now - timedelta(seconds=2))
    assert destinations.recover() == {"released": 0, "pumps": []}
    assert receiver.requests == []
    # Asked for longer ago than a queued pump waits: it was lost with its worker.
    Destination.objects.filter(key=key).update(pump_enqueued_at=now - destinations.LOST_AFTER - timedelta(seconds=1))
    assert destinations.recover() == {"released": 0, "pumps": [key]}
    assert [r["headers"]["X-FSM-Delivery"] for r in receiver.requests] == [lost.key]
    assert WebhookDelivery.objects.get(pk=lost.pk).status == DeliveryStatus.SENT
    # Not due yet: waits for its time.
    assert WebhookDelivery.objects.get(pk=later.pk).status == DeliveryStatus.PENDING
    assert destinations.recover() == {"released": 0, "pumps": []}
    make_due(later)
    assert destinations.recover() == {"released": 0, "pumps": [key]}
    assert WebhookDelivery.objects.get(pk=later.pk).status == DeliveryStatus.SENT


def test_a_message_consumed_twice_makes_one_delivery_and_no_network(
    world, receiver, django_capture_on_commit_callbacks
):
    first = subscribe(world, receiver.url, "sla.breached")
    second = subscribe(world, receiver.url, "sla.breached")
    message = outbox.emit("sla.breached", {"work_order": 1, "number": "WO1"}, key="sla:1:response")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consumers.consume(message)
    assert len(callbacks) == 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consumers.consume(message)
    assert callbacks == []
    assert sorted(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == sorted([first.pk, second.pk])
    # The consumer only wrote rows: nothing was sent.
    assert receiver.requests == []
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_topics_without_a_webhook_event_are_ignored(world, receiver):
    subscribe(world, receiver.url, "work_order.created", STATUS_CHANGED, "sla.breached", "evaluation.received")
    message = outbox.emit("contracts.expiring", {"contract": 1})
    consumers.consume(message)
    assert not WebhookDelivery.objects.exists()


def test_a_redelivery_sends_the_same_body_and_id(world, accepted_order, receiver, django_capture_on_commit_callbacks):
    hook = subscribe(world, receiver.url, STATUS_CHANGED)
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(delivery, actor=world.admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    assert len(receiver.requests) == 2
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert receiver.requests[1]["headers"]["X-FSM-Delivery"] == delivery.key
    assert signature_ok(receiver.requests[1], hook.secret)


def test_after_a_rotation_retries_are_signed_with_the_new_secret(
    world, accepted_order, receiver, django_capture_on_commit_callbacks
):
    hook = subscribe(world, receiver.url, STATUS_CHANGED)
    old = hook.secret
    receiver.answers.append(500)
    with django_capture_on_commit_callbacks(execute=True):
        transition(accepted_order, "start_travel", actor=world.wang)
    new = services.rotate_secret(hook, actor=world.admin).secret
    delivery = WebhookDelivery.objects.get()
    make_due(delivery)
    assert services.attempt_delivery(delivery.pk) == Attempt("sent")
    assert new != old
    assert signature_ok(receiver.requests[0], old)
    assert signature_ok(receiver.requests[1], new) and not signature_ok(receiver.requests[1], old)


def test_the_test_button_sends_a_signed_ping(world, receiver):
    hook = subscribe(world, receiver.url, "sla.breached")
    delivery = services.send_test(hook, actor=world.admin)
    assert (delivery.event, delivery.status, delivery.response_status) == ("ping", DeliveryStatus.SENT, 200)
    request = receiver.requests[0]
    assert request["headers"]["X-FSM-Event"] == "ping" and request["headers"]["X-FSM-Delivery"] == delivery.key
    assert signature_ok(request, hook.secret)
    assert json.loads(request["body"])["data"] == {
        "subscription": {"id": hook.pk, "name": hook.name, "events": ["sla.breached"]}
    }
    receiver.answers.append(404)
    failed = services.send_test(hook, actor=world.admin)
    assert (failed.status, failed.response_status, failed.attempts) == (DeliveryStatus.FAILED, 404, 1)
    assert "HTTP 404" in failed.last_error


def test_the_test_button_reports_a_receiver_that_is_down(world, dead_url):
    hook = subscribe(world, dead_url, "sla.breached")
    delivery = services.send_test(hook, actor=world.admin)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error
    # Not retried: a ping is a one-off, and it counts against no destination.
    assert destinations.recover(now=timezone.now() + timedelta(days=1)) == {"released": 0, "pumps": []}
    assert not Destination.objects.filter(key=services.destination_key(hook.pk)).exists()
