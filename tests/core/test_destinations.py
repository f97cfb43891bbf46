"""Sending by destination (core.destinations): the circuit breaker and the administrators' alerts,
the slots that bound attempts in flight, asking for pumps, resets when an administrator changes a
receiver, the recovery, and the deadline that keeps a receiver that hangs from holding a worker.

The circuit and the isolation tests talk to real HTTP servers on 127.0.0.1; the slot tests use a
destination kind of their own whose attempt can start another pump of the same destination in
the middle of an attempt, as another worker would.
"""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend
from django_tasks.backends.dummy import DummyBackend

from fieldservice.accounts.choices import Role
from fieldservice.core import destinations, recovery
from fieldservice.core.destinations import Attempt, Kind
from fieldservice.core.http import DeliveryError, post_signed
from fieldservice.core.models import CircuitState, Destination, DestinationSlot, OutboxMessage, WorkerBeat
from fieldservice.notifications import services as notification_services
from fieldservice.notifications.choices import Channel
from fieldservice.notifications.choices import DeliveryStatus as NotificationStatus
from fieldservice.notifications.models import Delivery, Notification
from fieldservice.webhooks import services as webhook_services
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery
from tests import factories
from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import deliveries

# The webhook tests' receiver on 127.0.0.1 (and an address there where nothing listens).
allow_loopback = webhook_fixtures.allow_loopback
receiver = webhook_fixtures.receiver
dead_url = webhook_fixtures.dead_url

OPENED = "destination.opened"
RECOVERED = "destination.recovered"


def subscribe(personas, url: str):
    return factories.webhook_subscription(actor=personas.admin, name="ERP", url=url, events=["sla.breached"])


def state(key: str) -> Destination:
    return Destination.objects.get(key=key)


def announcements(topic: str) -> list[dict]:
    return list(OutboxMessage.objects.filter(topic=topic).order_by("pk").values_list("payload", flat=True))


# --- the circuit -----------------------------------------------------------------------------


@override_settings(FSM_CIRCUIT_MAX_PAUSE_SECONDS=100)
def test_failures_pause_the_destination_then_open_its_circuit_until_a_probe_succeeds(personas, receiver):
    hook = subscribe(personas, receiver.url)
    key = webhook_services.destination_key(hook.pk)
    waiting = deliveries(8)
    receiver.answers.extend([500] * 8)
    assert settings.FSM_CIRCUIT_FAILURES == 5
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # Failures in a row: one attempt per pump, then a short pause (1, 2, 4, 8 s).
        for failures, pause in enumerate([1, 2, 4, 8], start=1):
            now = timezone.now()
            assert destinations.pump(key) == {"destination": key, "result": "failed", "sent": 0, "tried": 1}
            destination = state(key)
            assert (destination.state, destination.failures, destination.trips) == (
                CircuitState.FAILING,
                failures,
                0,
            )
            assert destination.retry_at == now + timedelta(seconds=pause)
            assert "HTTP 500" in destination.last_error
            # During the pause a pump tries nothing.
            assert destinations.pump(key)["result"] == "paused"
            assert len(receiver.requests) == failures
            clock.move_to(destination.retry_at)
        assert announcements(OPENED) == []

        # The fifth failure in a row opens the circuit: 30 s, and the administrators are told once.
        now = timezone.now()
        assert destinations.pump(key)["result"] == "failed"
        destination = state(key)
        assert (destination.state, destination.failures, destination.trips) == (CircuitState.OPEN, 5, 1)
        assert destination.retry_at == now + timedelta(seconds=30) and destination.opened_at == now
        assert announcements(OPENED) == [
            {"destination": key, "label": "Webhook “ERP”", "error": destination.last_error}
        ]
        clock.move_to(now + timedelta(seconds=29))
        assert destinations.pump(key)["result"] == "paused"
        assert len(receiver.requests) == 5

        # After the pause one delivery probes it; each failed probe doubles the pause, up to the cap.
        for trips, pause in [(2, 60), (3, 100)]:
            clock.move_to(destination.retry_at)
            now = timezone.now()
            assert destinations.pump(key) == {"destination": key, "result": "failed", "sent": 0, "tried": 1}
            destination = state(key)
            assert (destination.state, destination.trips) == (CircuitState.OPEN, trips)
            assert destination.retry_at == now + timedelta(seconds=pause)
        assert len(receiver.requests) == 7
        # Still the same opening: no second alert, and it keeps the time it opened.
        assert len(announcements(OPENED)) == 1 and destination.opened_at < now

        # The receiver answers again: the probe closes the circuit, everything that waited goes.
        receiver.answers.clear()
        clock.move_to(destination.retry_at)
        now = timezone.now()
        assert destinations.pump(key) == {"destination": key, "result": "done", "sent": 8, "tried": 8}
    destination = state(key)
    assert (destination.state, destination.failures, destination.trips) == (CircuitState.CLOSED, 0, 0)
    assert destination.retry_at is None and destination.opened_at is None and destination.last_success_at == now
    assert announcements(RECOVERED) == [{"destination": key, "label": "Webhook “ERP”", "error": destination.last_error}]
    assert set(WebhookDelivery.objects.filter(pk__in=[d.pk for d in waiting]).values_list("status", flat=True)) == {
        DeliveryStatus.SENT
    }
    # Every delivery went out once, whatever its tries before.
    assert len(receiver.requests) == 7 + 8
    assert len({r["headers"]["X-FSM-Delivery"] for r in receiver.requests[7:]}) == 8


def test_a_success_while_failing_closes_the_circuit_without_an_alert(personas, receiver):
    hook = subscribe(personas, receiver.url)
    key = webhook_services.destination_key(hook.pk)
    deliveries(3)
    receiver.answers.extend([500, 500])
    destinations.pump(key)
    Destination.objects.filter(key=key).update(retry_at=timezone.now())
    destinations.pump(key)
    assert state(key).failures == 2
    Destination.objects.filter(key=key).update(retry_at=timezone.now())
    assert destinations.pump(key)["sent"] == 1
    destination = state(key)
    assert (destination.state, destination.failures, destination.retry_at) == (CircuitState.CLOSED, 0, None)
    assert announcements(OPENED) == announcements(RECOVERED) == []


@override_settings(FSM_CIRCUIT_FAILURES=1)
def test_the_administrators_are_told_in_their_language_when_a_destination_opens_and_recovers(
    personas, receiver, django_capture_on_commit_callbacks
):
    chinese = factories.user(Role.ADMINISTRATOR, organisation=personas.own, username="admin_zh", language="zh-hans")
    hook = subscribe(personas, receiver.url)
    key = webhook_services.destination_key(hook.pk)
    deliveries(2)
    receiver.answers.append(500)
    with django_capture_on_commit_callbacks(execute=True):
        assert destinations.pump(key)["result"] == "failed"
    assert state(key).state == CircuitState.OPEN

    opened = {n.recipient_id: n for n in Notification.objects.filter(event=OPENED)}
    assert set(opened) == {personas.admin.pk, chinese.pk}  # the administrators, nobody else
    english, zh = opened[personas.admin.pk], opened[chinese.pk]
    assert english.title == "Deliveries paused: Webhook “ERP” keeps failing"
    assert "HTTP 500: receiver broke" in english.body and "Nothing is lost" in english.body
    assert zh.title.startswith("已暂停发送：") and "ERP" in zh.title and "HTTP 500" in zh.body
    assert english.url == zh.url == reverse("webhooks:detail", args=[hook.pk])
    # In the app whatever their settings (the pause must be seen), and delivered there by its pump.
    assert english.delivered_at is not None and zh.delivered_at is not None
    assert Delivery.objects.filter(notification__event=OPENED, channel=Channel.IN_APP).count() == 2

    Destination.objects.filter(key=key).update(retry_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        # The probe: the delivery that failed waits for its own back-off, the other one goes.
        assert destinations.pump(key)["sent"] == 1
    recovered = {n.recipient_id: n for n in Notification.objects.filter(event=RECOVERED)}
    assert set(recovered) == {personas.admin.pk, chinese.pk}
    assert recovered[personas.admin.pk].title == "Deliveries resumed: Webhook “ERP” answers again"
    assert recovered[chinese.pk].title.startswith("已恢复发送：")
    assert Notification.objects.filter(event=OPENED).count() == 2


def test_a_recipient_without_an_address_does_not_count_against_the_mail_server(personas):
    """No e-mail address on file is our data, not the mail server failing: the destination stays
    in good standing and its pump goes on to the next delivery."""
    gone = factories.user(Role.DISPATCHER, organisation=personas.own, username="no_mail", email="gone@example.com")
    mailed = factories.user(Role.DISPATCHER, organisation=personas.own, username="mailed", email="ops@example.com")
    for user in (gone, mailed):
        notification = Notification.objects.create(
            recipient=user, event="sla.breached", title="SLA", key=f"t:{user.pk}"
        )
        Delivery.objects.create(notification=notification, channel=Channel.EMAIL)
    # The address was removed after the delivery was written.
    type(gone).objects.filter(pk=gone.pk).update(email="")

    assert destinations.pump(Channel.EMAIL) == {"destination": "email", "result": "done", "sent": 1, "tried": 2}
    missed = Delivery.objects.get(notification__recipient=gone)
    assert missed.status == NotificationStatus.PENDING and "no e-mail address" in missed.last_error
    assert [message.to for message in mail.outbox] == [["ops@example.com"]]
    destination = state(Channel.EMAIL)
    assert (destination.state, destination.failures, destination.last_error) == (CircuitState.CLOSED, 0, "")


# --- slots -----------------------------------------------------------------------------------

KEY = "probe:1"


class Probe:
    """A destination kind whose deliveries are numbers. With `pumps_during_attempt`, an attempt
    starts that many more pumps of the same destination, one inside the other, while it runs."""

    def __init__(self, count: int):
        self.waiting = list(range(1, count + 1))
        self.slots_seen: list[int] = []
        self.other_pumps: list[str] = []
        self.pumps_during_attempt = 0
        self.kind = Kind(
            prefixes=("probe",),
            queue="default",
            priority=0,
            label=lambda key: f"Probe {key}",
            claim=self.claim,
            attempt=self.attempt,
            give_back=self.give_back,
            has_due=lambda key, now: bool(self.waiting),
            due_keys=lambda now: [KEY] if self.waiting else [],
            release_expired=lambda now: 0,
        )

    def claim(self, key, now, limit: int) -> list[int]:
        # One at a time, so that a pump started during an attempt still finds work to claim.
        claimed, self.waiting = self.waiting[:1], self.waiting[1:]
        return claimed

    def give_back(self, items: list[int]) -> None:
        self.waiting = sorted(self.waiting + items)

    def attempt(self, pk: int) -> Attempt:
        self.slots_seen.append(DestinationSlot.objects.filter(destination__key=KEY).count())
        if self.pumps_during_attempt:
            self.pumps_during_attempt -= 1
            self.other_pumps.append(destinations.pump(KEY)["result"])
        return Attempt("sent")


@pytest.fixture
def probe(db, monkeypatch):
    def make(count: int = 5, **destination) -> Probe:
        kind = Probe(count)
        monkeypatch.setitem(destinations._kinds, "probe", kind.kind)
        Destination.objects.create(key=KEY, **destination)
        return kind

    return make


@override_settings(FSM_DESTINATION_SLOTS=2)
def test_at_most_the_configured_slots_are_taken_while_the_destination_answers(probe):
    kind = probe(6, last_success_at=timezone.now())
    kind.pumps_during_attempt = 2
    assert destinations.pump(KEY)["sent"] >= 1
    # The first pump's attempt started a second (it took the other slot), whose attempt started
    # a third: no slot left, it ended at once.
    assert kind.other_pumps == ["busy", "done"]
    assert max(kind.slots_seen) == 2 and kind.waiting == []
    assert not DestinationSlot.objects.exists()


@override_settings(FSM_DESTINATION_SLOTS=2)
def test_a_destination_that_never_answered_gets_one_slot(probe):
    kind = probe()
    kind.pumps_during_attempt = 1
    destinations.pump(KEY)
    assert kind.other_pumps == ["busy"] and max(kind.slots_seen) == 1 and kind.waiting == []


@pytest.mark.parametrize(
    ("circuit", "failures"), [(CircuitState.FAILING, 2), (CircuitState.OPEN, 5), (CircuitState.HALF_OPEN, 5)]
)
@override_settings(FSM_DESTINATION_SLOTS=2)
def test_one_slot_while_the_destination_fails_once_its_pause_is_over(probe, circuit, failures):
    kind = probe(
        state=circuit,
        failures=failures,
        trips=1 if failures == 5 else 0,
        retry_at=timezone.now() - timedelta(seconds=1),
        last_success_at=timezone.now() - timedelta(hours=1),
    )
    kind.pumps_during_attempt = 1
    result = destinations.pump(KEY)
    # The other pump found the one slot taken and ended: it did not ask for itself again (that
    # would run at once, find the slot still taken, and so on).
    assert kind.other_pumps == ["busy"] and max(kind.slots_seen) == 1
    # The first attempt succeeded: the destination is closed again and the pump sent the rest.
    assert result == {"destination": KEY, "result": "done", "sent": 5, "tried": 5}
    assert state(KEY).state == CircuitState.CLOSED and kind.waiting == []


@pytest.mark.parametrize("circuit", [CircuitState.FAILING, CircuitState.OPEN])
def test_no_slot_before_the_end_of_the_pause(probe, circuit):
    retry_at = timezone.now() + timedelta(seconds=30)
    kind = probe(state=circuit, failures=5, trips=1, retry_at=retry_at)
    assert destinations.pump(KEY) == {"destination": KEY, "result": "paused"}
    assert kind.slots_seen == [] and len(kind.waiting) == 5 and not DestinationSlot.objects.exists()
    # The immediate backend cannot defer the pump to the end of the pause: the recovery asks again.
    assert state(KEY).pump_enqueued_at is None
    assert destinations.recover()["pumps"] == []
    with time_machine.travel(retry_at + timedelta(milliseconds=1), tick=False):
        assert destinations.recover()["pumps"] == [KEY]
    assert kind.waiting == [] and state(KEY).state == CircuitState.CLOSED


def test_an_expired_slot_is_taken_back(probe):
    probe(3, last_success_at=timezone.now())
    destination = state(KEY)
    now = timezone.now()
    # Slot 0: a live pump of another worker; slot 1: a worker that died mid-pump.
    DestinationSlot.objects.create(destination=destination, slot=0, holder="alive", until=now + timedelta(seconds=15))
    DestinationSlot.objects.create(destination=destination, slot=1, holder="dead", until=now - timedelta(seconds=1))
    assert destinations.pump(KEY)["sent"] == 3
    assert list(DestinationSlot.objects.values_list("holder", flat=True)) == ["alive"]


def test_both_slots_held_by_live_pumps_leave_a_new_pump_nothing_to_do(probe):
    kind = probe(3, last_success_at=timezone.now())
    destination = state(KEY)
    until = timezone.now() + timedelta(seconds=15)
    for slot in range(settings.FSM_DESTINATION_SLOTS):
        DestinationSlot.objects.create(destination=destination, slot=slot, holder=f"w{slot}", until=until)
    assert destinations.pump(KEY) == {"destination": KEY, "result": "busy"}
    assert len(kind.waiting) == 3


def test_the_slots_of_a_dead_worker_are_freed_by_its_name(db):
    until = timezone.now() + timedelta(seconds=15)
    first, second = Destination.objects.create(key="sms"), Destination.objects.create(key="webhook:3")
    DestinationSlot.objects.create(destination=first, slot=0, holder="host-1", until=until)
    DestinationSlot.objects.create(destination=second, slot=1, holder="host-1", until=until)
    DestinationSlot.objects.create(destination=second, slot=0, holder="host-2", until=until)
    assert destinations.release_held_by("host-1") == 2
    assert list(DestinationSlot.objects.values_list("holder", flat=True)) == ["host-2"]
    assert destinations.release_held_by("host-1") == 0


# --- asking for a pump -----------------------------------------------------------------------

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": settings.TASK_QUEUES}}


@pytest.fixture
def queued(db):
    """A task backend that keeps what is enqueued (and can defer), instead of running it."""
    with override_settings(TASKS=DUMMY_TASKS):
        yield default_task_backend.results


def enqueued(results) -> list[tuple]:
    return [(r.task.queue_name, r.task.priority, list(r.args), r.task.run_after) for r in results]


def test_a_pump_is_asked_for_once_while_one_waits_in_the_queue(queued):
    now = timezone.now()
    assert destinations.request_pump("sms", now=now)
    assert not destinations.request_pump("sms", now=now + timedelta(seconds=1))
    assert enqueued(queued) == [("notifications", 50, ["sms"], None)]
    # Webhooks go to the default queue, after our staff's notifications.
    assert destinations.request_pump("webhook:7", now=now)
    assert enqueued(queued)[1] == ("default", 0, ["webhook:7"], None)
    # A pump that started frees the way for the next request.
    with time_machine.travel(now + timedelta(seconds=2), tick=False):
        assert destinations.pump("sms")["result"] == "done"
        assert destinations.request_pump("sms")
    # One that never started within LOST_AFTER was lost with its worker: asked for again.
    assert not destinations.request_pump("webhook:7", now=now + destinations.LOST_AFTER - timedelta(seconds=1))
    assert destinations.request_pump("webhook:7", now=now + destinations.LOST_AFTER + timedelta(seconds=1))
    assert [args[0] for _queue, _priority, args, _after in enqueued(queued)] == ["sms", "webhook:7", "sms", "webhook:7"]


def test_a_pump_asked_for_during_a_pause_is_deferred_to_its_end(queued):
    now = timezone.now()
    retry_at = now + timedelta(seconds=4)
    Destination.objects.create(key="im", state=CircuitState.FAILING, failures=3, retry_at=retry_at)
    assert destinations.request_pump("im", now=now)
    assert enqueued(queued) == [("notifications", 50, ["im"], retry_at)]
    assert state("im").pump_enqueued_at == retry_at
    # New deliveries ask again during the pause: the deferred pump is enough.
    assert not destinations.request_pump("im", now=now + timedelta(seconds=3))
    assert len(queued) == 1
    # A pump that finds the pause not over yet asks for one at its end, too.
    Destination.objects.filter(key="im").update(pump_enqueued_at=None)
    assert destinations.pump("im") == {"destination": "im", "result": "paused"}
    assert enqueued(queued)[1] == ("notifications", 50, ["im"], retry_at)


def test_a_reset_asks_for_a_pump_now_even_while_one_waits_for_the_end_of_the_pause(
    queued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    Destination.objects.create(
        key="sms", state=CircuitState.OPEN, failures=5, trips=3, retry_at=now + timedelta(minutes=4), opened_at=now
    )
    assert destinations.request_pump("sms", now=now)
    with django_capture_on_commit_callbacks(execute=True):
        destinations.reset("sms")
    destination = state("sms")
    assert (destination.state, destination.failures, destination.trips) == (CircuitState.CLOSED, 0, 0)
    assert destination.retry_at is None and destination.opened_at is None
    assert enqueued(queued)[1] == ("notifications", 50, ["sms"], None)


class NoPriorities(DummyBackend):
    """Like RQ: no priorities, and a task that sets one is refused."""

    supports_priority = False


def test_pumps_are_enqueued_on_a_backend_without_priorities(db):
    tasks = {"default": {"BACKEND": f"{__name__}.NoPriorities", "QUEUES": settings.TASK_QUEUES}}
    with override_settings(TASKS=tasks):
        assert destinations.request_pump("webhook:7")
        assert destinations.request_pump("sms")
        assert enqueued(default_task_backend.results) == [
            ("default", 0, ["webhook:7"], None),
            ("notifications", 0, ["sms"], None),
        ]


def test_the_app_starts_with_the_rq_backend():
    """Every task is checked against the backend when it is declared, at import."""
    code = "import django; django.setup(); import fieldservice.notifications.tasks, fieldservice.core.tasks"
    environment = {**os.environ, "FSM_TASK_BACKEND": "rq", "DJANGO_SETTINGS_MODULE": "fieldservice.settings"}
    environment.setdefault("SECRET_KEY", "rq-import-test")
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


# --- an administrator changes a destination --------------------------------------------------


def open_circuit(key: str, *, deferred: bool = True) -> None:
    """The circuit opened a while ago. On the database and RQ backends a pump then waits in the
    queue until the end of the pause (deferred); the immediate backend of the tests keeps none."""
    retry_at = timezone.now() + timedelta(minutes=4)
    Destination.objects.update_or_create(
        key=key,
        defaults={
            "state": CircuitState.OPEN,
            "failures": 7,
            "trips": 3,
            "retry_at": retry_at,
            "opened_at": timezone.now() - timedelta(minutes=3),
            "pump_enqueued_at": retry_at if deferred else None,
        },
    )


@override_settings(FSM_CIRCUIT_FAILURES=1)
def test_a_new_url_resets_the_circuit_and_sends_what_waited(
    personas, dead_url, receiver, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, dead_url)
    key = webhook_services.destination_key(hook.pk)
    waiting = deliveries(3)
    assert destinations.pump(key)["result"] == "failed"
    assert state(key).state == CircuitState.OPEN
    open_circuit(key)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_services.update_subscription(hook, actor=personas.admin, url=receiver.url)
    destination = state(key)
    assert (destination.state, destination.failures, destination.trips) == (CircuitState.CLOSED, 0, 0)
    # All three, also the one whose back-off was earned by the old address.
    assert sorted(r["headers"]["X-FSM-Delivery"] for r in receiver.requests) == sorted(d.key for d in waiting)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_re_activating_a_subscription_resets_its_circuit_and_a_rename_does_not(
    personas, receiver, django_capture_on_commit_callbacks
):
    hook = subscribe(personas, receiver.url)
    key = webhook_services.destination_key(hook.pk)
    deliveries(2)
    open_circuit(key)
    with django_capture_on_commit_callbacks(execute=True):
        hook = webhook_services.update_subscription(hook, actor=personas.admin, name="ERP 2")
        hook = webhook_services.update_subscription(hook, actor=personas.admin, active=False)
    assert state(key).state == CircuitState.OPEN and receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        webhook_services.update_subscription(hook, actor=personas.admin, active=True)
    assert state(key).state == CircuitState.CLOSED
    assert len(receiver.requests) == 2


def test_deleting_a_subscription_forgets_its_destination(personas):
    hook = subscribe(personas, "http://hooks10.example.com/hook")
    other = subscribe(personas, "http://hooks11.example.com/hook")
    for subscription in (hook, other):
        open_circuit(webhook_services.destination_key(subscription.pk))
    webhook_services.delete_subscription(hook, actor=personas.admin)
    assert list(Destination.objects.values_list("key", flat=True)) == [webhook_services.destination_key(other.pk)]


def test_changing_the_sms_gateway_resets_the_sms_destination(personas, receiver, django_capture_on_commit_callbacks):
    gateway = notification_services.create_sms_gateway(actor=personas.admin, name="gw", url="http://sms.example.com/")
    user = factories.user(Role.ENGINEER, organisation=personas.own, username="mobile", phone="+8613800000001")
    notification = Notification.objects.create(recipient=user, event="sla.breached", title="SLA breached", key="t:1")
    # Its back-off was earned by the old gateway.
    delivery = Delivery.objects.create(
        notification=notification, channel=Channel.SMS, attempts=2, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    open_circuit(Channel.SMS)
    open_circuit(Channel.IM)
    with django_capture_on_commit_callbacks(execute=True):
        notification_services.update_sms_gateway(gateway, actor=personas.admin, url=receiver.url)
    assert state(Channel.SMS).state == CircuitState.CLOSED
    assert state(Channel.IM).state == CircuitState.OPEN  # the robots have nothing to do with it
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (NotificationStatus.SENT, 3)
    assert receiver.json() == {"phone": "+8613800000001", "text": "SLA breached"}


# --- the recovery ----------------------------------------------------------------------------


def test_one_recovery_redrives_every_due_delivery_of_a_destination_however_many(personas):
    """No cap per run: 1,200 due deliveries (half of them claimed by a worker that died) all go,
    driven by one recovery and the pumps it asks for."""
    count = 1200
    now = timezone.now()
    user = personas.dispatcher
    notifications = Notification.objects.bulk_create(
        Notification(recipient=user, event="sla.breached", title=f"Batch {i}", key=f"batch:{i}") for i in range(count)
    )
    Delivery.objects.bulk_create(
        Delivery(notification=n, channel=Channel.IN_APP, next_attempt_at=now) for n in notifications
    )
    dead = Delivery.objects.order_by("pk").values_list("pk", flat=True)[: count // 2]
    Delivery.objects.filter(pk__in=list(dead)).update(
        status=NotificationStatus.SENDING, attempts=1, lease_until=now - timedelta(seconds=1)
    )
    assert destinations.recover() == {"released": count // 2, "pumps": [Channel.IN_APP]}
    assert Delivery.objects.filter(status=NotificationStatus.SENT).count() == count
    assert Notification.objects.filter(delivered_at__isnull=False).count() == count
    assert destinations.recover() == {"released": 0, "pumps": []}


def test_the_scheduler_recovery_drains_a_stranded_outbox_and_redrives_deliveries(personas):
    now = timezone.now()
    # What setting up the personas emitted is out of the way.
    OutboxMessage.objects.filter(processed_at__isnull=True).update(processed_at=now)
    # Within the grace its drain may still be on its way: left alone.
    stranded = OutboxMessage.objects.create(topic="nobody.listens", payload={}, available_at=now)
    notification = Notification.objects.create(recipient=personas.agent, event="sla.breached", title="t", key="r:1")
    delivery = Delivery.objects.create(notification=notification, channel=Channel.IN_APP, next_attempt_at=now)
    result = recovery.recover()
    assert result == {"dead_workers": [], "outbox": False, "released": 0, "pumps": [Channel.IN_APP]}
    assert Delivery.objects.get(pk=delivery.pk).status == NotificationStatus.SENT
    stranded.refresh_from_db()
    assert stranded.processed_at is None
    OutboxMessage.objects.filter(pk=stranded.pk).update(available_at=now - recovery.OUTBOX_GRACE)
    assert recovery.recover()["outbox"] is True
    stranded.refresh_from_db()
    assert stranded.processed_at is not None
    assert recovery.recover()["outbox"] is False


def test_the_recovery_frees_the_slots_of_a_worker_that_stopped_beating(personas):
    now = timezone.now()
    silent = now - timedelta(seconds=settings.FSM_WORKER_DEAD_SECONDS + 1)
    WorkerBeat.objects.create(
        name="w-dead", host="elsewhere", pid=1, backend="rq", queues="notifications", beat_at=silent
    )
    destination = Destination.objects.create(key=Channel.IN_APP, last_success_at=now)
    # It held both slots, whose leases have not run out yet.
    for slot in range(settings.FSM_DESTINATION_SLOTS):
        DestinationSlot.objects.create(
            destination=destination, slot=slot, holder="w-dead", until=now + timedelta(seconds=15)
        )
    notification = Notification.objects.create(recipient=personas.agent, event="sla.breached", title="t", key="w:1")
    delivery = Delivery.objects.create(notification=notification, channel=Channel.IN_APP, next_attempt_at=now)
    result = recovery.recover()
    assert result["dead_workers"] == ["w-dead"] and result["pumps"] == [Channel.IN_APP]
    assert Delivery.objects.get(pk=delivery.pk).status == NotificationStatus.SENT
    assert not DestinationSlot.objects.exists() and not WorkerBeat.objects.exists()


# --- a receiver that hangs -------------------------------------------------------------------


class SlowReceiver:
    """`hang`: reads the request and answers after 30 s. `trickle`: answers a byte every 0.3 s."""

    ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok": true}'

    def __init__(self, mode: str):
        self.requests = 0
        self.bytes_sent = 0
        self.done = threading.Event()
        slow = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                slow.requests += 1
                try:
                    if mode == "hang":
                        slow.done.wait(30)
                        self.wfile.write(slow.ANSWER)
                        return
                    for index in range(len(slow.ANSWER)):
                        if slow.done.wait(0.3):
                            return
                        self.wfile.write(slow.ANSWER[index : index + 1])
                        self.wfile.flush()
                        slow.bytes_sent += 1
                except OSError:  # the client cut the connection
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def slow(allow_loopback):
    started = []

    def start(mode: str) -> SlowReceiver:
        server = SlowReceiver(mode)
        server.thread.start()
        started.append(server)
        return server

    with override_settings(
        FSM_DELIVERY_DEADLINE_SECONDS=1, FSM_DELIVERY_CONNECT_SECONDS=1, FSM_DELIVERY_LEASE_SECONDS=5
    ):
        yield start
    for server in started:
        server.done.set()
        server.server.shutdown()
        server.server.server_close()


def test_an_attempt_on_a_receiver_that_hangs_ends_at_the_deadline(personas, slow):
    hanging = slow("hang")
    hook = subscribe(personas, hanging.url)
    (delivery,) = deliveries(1)
    started = time.monotonic()
    outcome = webhook_services.attempt_delivery(delivery.pk)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.8
    assert (outcome.result, outcome.destination_failed) == ("retry", True)
    assert "no complete answer within 1 s" in outcome.error
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (DeliveryStatus.PENDING, 1, None)
    assert hanging.requests == 1 and hook.pk == delivery.subscription_id


def test_an_answer_trickled_a_byte_at_a_time_is_cut_at_the_deadline(slow):
    """Each byte comes well within the socket timeout; only the watchdog ends the attempt."""
    trickling = slow("trickle")
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no complete answer within 1 s"):
        post_signed(trickling.url, {"event": "ping"}, secret="s", event="ping", delivery_id="wh-test")
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.8
    assert trickling.requests == 1 and 0 < trickling.bytes_sent < len(SlowReceiver.ANSWER)
