"""Trying one notification delivery: one claim per attempt, exactly-once in the app, retries with
back-off, the robots' formats and signatures, and the recovery that takes back what a dead worker
left."""

import base64
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from fieldservice.core import destinations
from fieldservice.core.destinations import Attempt
from fieldservice.core.models import CircuitState, Destination
from fieldservice.notifications import services
from fieldservice.notifications.channels import dingtalk_sign, feishu_sign
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, ImEndpoint, Notification, SmsGateway
from fieldservice.notifications.tasks import backoff, run_delivery

PAYLOAD = {
    "event": "sla.breached",
    "context": {"number": "WO0000042", "customer": "Customer A", "target": "response", "due_at": "14:00"},
    "url": "/orders/42/",
}


@pytest.fixture
def make_delivery(personas, message, consume):
    """A pending delivery on `channel` for the dispatcher, not yet run."""

    def make(channel: str, **user_fields) -> Delivery:
        user = personas.dispatcher
        for name, value in user_fields.items():
            setattr(user, name, value)
        user.save()
        services.set_preferences(user, actor=user, choices={("", channel): True})
        msg = message("sla.escalation", {**PAYLOAD, "recipients": [user.pk]})
        consume(msg, execute=False)
        return Delivery.objects.get(notification__key=f"m{msg.pk}:{user.pk}", channel=channel)

    return make


def _due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_in_app_delivery_runs_exactly_once(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    notification = delivery.notification
    assert notification.delivered_at is None
    assert run_delivery(delivery.pk).result == "sent"
    notification.refresh_from_db()
    delivered_at = notification.delivered_at
    assert delivered_at is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    # A second run (a second pump, the recovery, another worker) does nothing.
    assert run_delivery(delivery.pk).result == "skipped"
    assert destinations.pump(Channel.IN_APP) == {"destination": "in_app", "result": "done", "sent": 0, "tried": 0}
    notification.refresh_from_db()
    delivery.refresh_from_db()
    assert notification.delivered_at == delivered_at
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_a_claimed_delivery_is_not_taken_twice(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    # Another worker claimed it a moment ago and is still working on it.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert run_delivery(delivery.pk).result == "skipped"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.notification.delivered_at is None


def test_a_delivery_not_yet_due_waits(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert run_delivery(delivery.pk).result == "skipped"
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING


def test_email_goes_with_the_delivery_header(make_delivery):
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com")
    assert run_delivery(delivery.pk).result == "sent"
    (sent,) = mail.outbox
    assert sent.to == ["disp@example.com"]
    assert sent.subject == "SLA breached: WO0000042"
    assert sent.extra_headers["X-FSM-Delivery"] == f"notification-{delivery.notification_id}-email"
    assert "http://127.0.0.1:8000/orders/42/" in sent.body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None
    assert run_delivery(delivery.pk).result == "skipped"
    assert len(mail.outbox) == 1


@override_settings(FSM_PUBLIC_BASE_URL="https://fsm.example.org/base/")
def test_an_email_sent_again_after_a_dead_worker_keeps_its_message_id(make_delivery):
    """The Message-ID is the delivery id at our public host, so the copy a worker sends again
    after another died mid-send (it sent, then died before recording it) shows once in a mail client."""
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com")
    expected = f"<notification-{delivery.notification_id}-email@fsm.example.org>"
    assert destinations.pump(Channel.EMAIL)["sent"] == 1
    # The worker sent it and died before it recorded it: still "sending" when the lease ran out.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    recovered = destinations.recover()
    assert recovered["released"] == 1 and Channel.EMAIL in recovered["pumps"]
    first, again = mail.outbox
    assert first.message()["Message-ID"] == again.message()["Message-ID"] == expected
    assert first.extra_headers["X-FSM-Delivery"] == again.extra_headers["X-FSM-Delivery"] == delivery.key
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    # Another delivery has another id.
    other = make_delivery(Channel.EMAIL, email="disp@example.com")
    assert destinations.pump(Channel.EMAIL)["sent"] == 1
    assert mail.outbox[2].message()["Message-ID"] == f"<notification-{other.notification_id}-email@fsm.example.org>"


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_failing_receiver_is_tried_again_later_with_the_same_delivery_id(make_delivery, receiver):
    ImEndpoint.objects.create(name="ops", url=receiver.url, secret="s3cret")
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [500]
    before = timezone.now()
    outcome = run_delivery(delivery.pk)
    # The robot failed: that counts against the IM destination.
    assert (outcome.result, outcome.destination_failed) == ("retry", True) and "HTTP 500" in outcome.error
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "HTTP 500" in delivery.last_error
    assert before + timedelta(seconds=59) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert run_delivery(delivery.pk).result == "skipped"  # not due yet
    _due(delivery)
    assert run_delivery(delivery.pk).result == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")
    first, second = receiver.requests
    assert first["headers"]["x-fsm-delivery"] == second["headers"]["x-fsm-delivery"] == delivery.key
    assert receiver.signature_ok(second, "s3cret")
    assert not receiver.signature_ok(second, "wrong")
    body = second["json"]
    assert body["event"] == "sla.breached" and body["url"] == "http://127.0.0.1:8000/orders/42/"
    assert body["recipient"]["id"] == delivery.notification.recipient_id
    assert "SLA breached: WO0000042" in body["text"]


@override_settings(FSM_DELIVERY_MAX_ATTEMPTS=3)
def test_a_delivery_fails_after_the_last_attempt(make_delivery, receiver):
    SmsGateway.objects.create(name="gw", url=receiver.url)
    delivery = make_delivery(Channel.SMS, phone="+8613800000000")
    receiver.statuses = [500, 503, 500, 200]
    assert run_delivery(delivery.pk).result == "retry"
    _due(delivery)
    assert run_delivery(delivery.pk).result == "retry"
    assert Delivery.objects.get(pk=delivery.pk).next_attempt_at > timezone.now() + timedelta(seconds=110)
    _due(delivery)
    assert run_delivery(delivery.pk).result == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert "HTTP 500" in delivery.last_error
    _due(delivery)
    assert run_delivery(delivery.pk).result == "skipped"
    assert len(receiver.requests) == 3


def test_sms_goes_to_the_gateway_as_signed_json(make_delivery, receiver):
    SmsGateway.objects.create(name="gw", url=receiver.url, secret="gw-secret")
    delivery = make_delivery(Channel.SMS, phone="+8613800000000")
    assert run_delivery(delivery.pk).result == "sent"
    (request,) = receiver.requests
    assert request["json"]["phone"] == "+8613800000000"
    assert request["json"]["text"].startswith("SLA breached: WO0000042")
    assert set(request["json"]) == {"phone", "text"}
    assert receiver.signature_ok(request, "gw-secret")


def test_without_an_active_gateway_sms_waits(make_delivery, receiver):
    gateway = SmsGateway.objects.create(name="gw", url=receiver.url)
    delivery = make_delivery(Channel.SMS, phone="+8613800000000")
    SmsGateway.objects.filter(pk=gateway.pk).update(is_active=False)
    outcome = run_delivery(delivery.pk)
    # Our set-up is missing, not the gateway failing: nothing counts against the destination.
    assert (outcome.result, outcome.destination_failed) == ("retry", False)
    assert "No SMS gateway" in Delivery.objects.get(pk=delivery.pk).last_error


def test_dingtalk_gets_its_text_format_and_signed_query(make_delivery, receiver):
    ImEndpoint.objects.create(name="ding", kind="dingtalk", url=receiver.url + "?access_token=abc", secret="SECxyz")
    delivery = make_delivery(Channel.IM, phone="+8613800000000")
    assert run_delivery(delivery.pk).result == "sent"
    (request,) = receiver.requests
    assert request["json"]["msgtype"] == "text"
    assert "SLA breached: WO0000042" in request["json"]["text"]["content"]
    assert request["json"]["at"] == {"atMobiles": ["+8613800000000"], "isAtAll": False}
    query = request["query"]
    assert query["access_token"] == "abc"
    timestamp = query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds
    expected = base64.b64encode(hmac.new(b"SECxyz", f"{timestamp}\nSECxyz".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"] == expected


def test_feishu_gets_the_signature_in_the_body(make_delivery, receiver):
    receiver.answer = b'{"code": 0, "msg": "success", "data": {}}'
    ImEndpoint.objects.create(name="lark", kind="feishu", url=receiver.url, secret="fs-secret")
    delivery = make_delivery(Channel.IM)
    assert run_delivery(delivery.pk).result == "sent"
    body = receiver.requests[0]["json"]
    assert body["msg_type"] == "text" and "SLA breached" in body["content"]["text"]
    assert abs(int(body["timestamp"]) - time.time()) < 60  # seconds
    expected = base64.b64encode(
        hmac.new(f"{body['timestamp']}\nfs-secret".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected


def test_wecom_gets_its_text_format_and_our_signature(make_delivery, receiver):
    ImEndpoint.objects.create(name="wecom", kind="wecom", url=receiver.url, secret="wc")
    delivery = make_delivery(Channel.IM, phone="+8613800000000")
    assert run_delivery(delivery.pk).result == "sent"
    (request,) = receiver.requests
    assert request["json"]["msgtype"] == "text"
    assert request["json"]["text"]["mentioned_mobile_list"] == ["+8613800000000"]
    assert receiver.signature_ok(request, "wc")


def test_signing_helpers_match_the_documented_algorithms():
    # DingTalk: key = secret, message = "<timestamp>\n<secret>"; Feishu: key = "<timestamp>\n<secret>", empty message.
    assert dingtalk_sign("s", "1") == base64.b64encode(hmac.new(b"s", b"1\ns", hashlib.sha256).digest()).decode()
    assert feishu_sign("s", "1") == base64.b64encode(hmac.new(b"1\ns", b"", hashlib.sha256).digest()).decode()


def test_a_robot_that_refuses_in_its_body_is_a_failure(make_delivery, receiver):
    receiver.answer = b'{"errcode": 310000, "errmsg": "sign not match"}'
    ImEndpoint.objects.create(name="ding", kind="dingtalk", url=receiver.url, secret="bad")
    delivery = make_delivery(Channel.IM)
    assert run_delivery(delivery.pk).result == "retry"
    assert "sign not match" in Delivery.objects.get(pk=delivery.pk).last_error


def test_a_retry_after_a_partial_failure_posts_only_to_the_endpoints_that_missed_it(make_delivery, receiver):
    first = ImEndpoint.objects.create(name="a", url=receiver.url + "?to=a")
    ImEndpoint.objects.create(name="b", url=receiver.url + "?to=b")
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [200, 500]
    assert run_delivery(delivery.pk).result == "retry"
    assert Delivery.objects.get(pk=delivery.pk).sent_to == [first.pk]
    _due(delivery)
    assert run_delivery(delivery.pk).result == "sent"
    assert [r["query"]["to"] for r in receiver.requests] == ["a", "b", "b"]


def test_a_deactivated_recipient_gets_nothing_outside_the_app(make_delivery):
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com")
    delivery.notification.recipient.is_active = False
    delivery.notification.recipient.save()
    assert run_delivery(delivery.pk) == Attempt("failed")
    assert mail.outbox == []


def test_a_slow_channel_does_not_touch_the_business_transaction(personas, receiver, django_capture_on_commit_callbacks):
    """The work order is committed whatever the IM receiver does: sending runs after the commit."""
    from tests import factories

    ImEndpoint.objects.create(name="ops", url=receiver.url)
    user = personas.dispatcher
    services.set_preferences(user, actor=user, choices={("", Channel.IM): True})
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.work_order(personas.customer_a)
    assert order.pk and order.number
    im = Delivery.objects.get(channel=Channel.IM)
    assert im.status == DeliveryStatus.PENDING and im.attempts == 1
    assert Notification.objects.get(recipient=user).delivered_at is not None


# --- the recovery ----------------------------------------------------------------------------


def test_recovery_takes_back_what_a_dead_worker_left(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    now = timezone.now()
    # The worker claimed it and died: the lease ran out.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=now - timedelta(seconds=1)
    )
    assert destinations.recover() == {"released": 1, "pumps": [Channel.IN_APP]}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)  # the immediate backend ran the pump
    assert delivery.notification.delivered_at is not None


def test_recovery_leaves_a_live_lease_alone(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=15)
    )
    assert destinations.recover() == {"released": 0, "pumps": []}
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENDING


@override_settings(FSM_DELIVERY_MAX_ATTEMPTS=2)
def test_a_worker_dying_on_the_last_attempt_fails_the_delivery(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=2, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert destinations.recover() == {"released": 1, "pumps": []}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "stopped" in delivery.last_error


def test_recovery_asks_for_the_lost_pump_of_due_deliveries(make_delivery):
    """The deliveries were written, and the worker died before its commit asked for a pump."""
    first, second = make_delivery(Channel.IN_APP), make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert destinations.recover() == {"released": 0, "pumps": [Channel.IN_APP]}
    assert Delivery.objects.get(pk=first.pk).status == DeliveryStatus.SENT
    assert Delivery.objects.get(pk=second.pk).status == DeliveryStatus.PENDING
    assert destinations.recover() == {"released": 0, "pumps": []}  # nothing due
    _due(second)
    assert destinations.recover() == {"released": 0, "pumps": [Channel.IN_APP]}
    assert Delivery.objects.get(pk=second.pk).status == DeliveryStatus.SENT


def test_the_recovery_retries_a_due_delivery_once_the_destination_may_be_tried(make_delivery, receiver):
    ImEndpoint.objects.create(name="ops", url=receiver.url)
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [500]
    assert destinations.pump(Channel.IM)["result"] == "failed"
    destinations.pump(Channel.IN_APP)  # the same notification in the app
    assert destinations.recover()["pumps"] == []  # not due yet
    _due(delivery)
    # Due, but the robots failed a moment ago: the destination pauses first (1 s after one failure).
    destination = Destination.objects.get(key=Channel.IM)
    assert destination.state == CircuitState.FAILING and destination.retry_at > timezone.now()
    assert destinations.recover()["pumps"] == []
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING
    with time_machine.travel(destination.retry_at + timedelta(milliseconds=1), tick=False):
        assert destinations.recover()["pumps"] == [Channel.IM]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT
    assert len(receiver.requests) == 2
    assert Destination.objects.get(key=Channel.IM).state == CircuitState.CLOSED


def test_a_recovery_run_with_a_later_clock_still_leaves_the_delivery_due(make_delivery):
    """The recovery may be told a later `now` (a test, a clock ahead): the delivery it takes back
    must still be due for the pump that runs by its own clock."""
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(seconds=15)
    )
    later = timezone.now() + timedelta(minutes=20)
    assert destinations.recover(now=later)["released"] == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    ("language", "link_line", "footer"),
    [
        ("zh-hans", "在系统中打开：http://127.0.0.1:8000/orders/42/", "通知设置"),
        ("en", "Open in fieldservice: http://127.0.0.1:8000/orders/42/", "notification settings"),
    ],
)
def test_email_text_is_in_the_recipients_language(make_delivery, language, link_line, footer):
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com", language=language)
    assert run_delivery(delivery.pk).result == "sent"
    (sent,) = mail.outbox
    assert link_line in sent.body.splitlines()
    assert footer in sent.body
