"""The delivery task: one claim per run, exactly-once in the app, retries with back-off, the
robots' formats and signatures, and the sweep that takes back what a dead worker left."""

import base64
import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from fieldservice.core.tasks import sweep
from fieldservice.notifications import services
from fieldservice.notifications.channels import dingtalk_sign, feishu_sign
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, ImEndpoint, Notification, SmsGateway
from fieldservice.notifications.tasks import backoff, deliver, run_delivery

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
    assert run_delivery(delivery.pk) == "sent"
    notification.refresh_from_db()
    delivered_at = notification.delivered_at
    assert delivered_at is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    # A second run (duplicate enqueue, the sweep, another worker) does nothing.
    assert run_delivery(delivery.pk) == "skipped"
    deliver.enqueue(delivery.pk)
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
    assert run_delivery(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.notification.delivered_at is None


def test_a_delivery_not_yet_due_waits(make_delivery):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert run_delivery(delivery.pk) == "skipped"
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING


def test_email_goes_with_the_delivery_header(make_delivery):
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com")
    assert run_delivery(delivery.pk) == "sent"
    (sent,) = mail.outbox
    assert sent.to == ["disp@example.com"]
    assert sent.subject == "SLA breached: WO0000042"
    assert sent.extra_headers["X-FSM-Delivery"] == f"notification-{delivery.notification_id}-email"
    assert "http://127.0.0.1:8000/orders/42/" in sent.body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.sent_at is not None
    assert run_delivery(delivery.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_failing_receiver_is_tried_again_later_with_the_same_delivery_id(make_delivery, receiver):
    ImEndpoint.objects.create(name="ops", url=receiver.url, secret="s3cret")
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [500]
    before = timezone.now()
    assert run_delivery(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "HTTP 500" in delivery.last_error
    assert before + timedelta(seconds=59) < delivery.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert delivery.enqueued_at is None  # the sweep enqueues it when it is due
    assert run_delivery(delivery.pk) == "skipped"  # not due yet
    _due(delivery)
    assert run_delivery(delivery.pk) == "sent"
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
    assert run_delivery(delivery.pk) == "retry"
    _due(delivery)
    assert run_delivery(delivery.pk) == "retry"
    assert Delivery.objects.get(pk=delivery.pk).next_attempt_at > timezone.now() + timedelta(seconds=110)
    _due(delivery)
    assert run_delivery(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert "HTTP 500" in delivery.last_error
    _due(delivery)
    assert run_delivery(delivery.pk) == "skipped"
    assert len(receiver.requests) == 3


def test_sms_goes_to_the_gateway_as_signed_json(make_delivery, receiver):
    SmsGateway.objects.create(name="gw", url=receiver.url, secret="gw-secret")
    delivery = make_delivery(Channel.SMS, phone="+8613800000000")
    assert run_delivery(delivery.pk) == "sent"
    (request,) = receiver.requests
    assert request["json"]["phone"] == "+8613800000000"
    assert request["json"]["text"].startswith("SLA breached: WO0000042")
    assert set(request["json"]) == {"phone", "text"}
    assert receiver.signature_ok(request, "gw-secret")


def test_without_an_active_gateway_sms_waits(make_delivery, receiver):
    gateway = SmsGateway.objects.create(name="gw", url=receiver.url)
    delivery = make_delivery(Channel.SMS, phone="+8613800000000")
    SmsGateway.objects.filter(pk=gateway.pk).update(is_active=False)
    assert run_delivery(delivery.pk) == "retry"
    assert "No SMS gateway" in Delivery.objects.get(pk=delivery.pk).last_error


def test_dingtalk_gets_its_text_format_and_signed_query(make_delivery, receiver):
    ImEndpoint.objects.create(name="ding", kind="dingtalk", url=receiver.url + "?access_token=abc", secret="SECxyz")
    delivery = make_delivery(Channel.IM, phone="+8613800000000")
    assert run_delivery(delivery.pk) == "sent"
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
    assert run_delivery(delivery.pk) == "sent"
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
    assert run_delivery(delivery.pk) == "sent"
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
    assert run_delivery(delivery.pk) == "retry"
    assert "sign not match" in Delivery.objects.get(pk=delivery.pk).last_error


def test_a_retry_after_a_partial_failure_posts_only_to_the_endpoints_that_missed_it(make_delivery, receiver):
    first = ImEndpoint.objects.create(name="a", url=receiver.url + "?to=a")
    ImEndpoint.objects.create(name="b", url=receiver.url + "?to=b")
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [200, 500]
    assert run_delivery(delivery.pk) == "retry"
    assert Delivery.objects.get(pk=delivery.pk).sent_to == [first.pk]
    _due(delivery)
    assert run_delivery(delivery.pk) == "sent"
    assert [r["query"]["to"] for r in receiver.requests] == ["a", "b", "b"]


def test_a_deactivated_recipient_gets_nothing_outside_the_app(make_delivery):
    delivery = make_delivery(Channel.EMAIL, email="disp@example.com")
    delivery.notification.recipient.is_active = False
    delivery.notification.recipient.save()
    assert run_delivery(delivery.pk) == "failed"
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


# --- the sweep -------------------------------------------------------------------------------


def test_requeue_takes_back_what_a_dead_worker_left(make_delivery, on_commit):
    delivery = make_delivery(Channel.IN_APP)
    now = timezone.now()
    # The worker claimed it and died: the lease ran out.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=now - timedelta(seconds=1), enqueued_at=None
    )
    assert on_commit(services.requeue_stalled) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)  # the immediate backend ran it
    assert delivery.notification.delivered_at is not None


def test_requeue_leaves_a_live_lease_alone(make_delivery, on_commit):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert on_commit(services.requeue_stalled) == 0
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENDING


@override_settings(FSM_DELIVERY_MAX_ATTEMPTS=2)
def test_a_worker_dying_on_the_last_attempt_fails_the_delivery(make_delivery, on_commit):
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=2, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert on_commit(services.requeue_stalled) == 0
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and "stopped" in delivery.last_error


@override_settings(FSM_DELIVERY_STALL_SECONDS=120)
def test_requeue_enqueues_a_lost_task_again_but_not_a_fresh_one(make_delivery, on_commit):
    lost = make_delivery(Channel.IN_APP)
    fresh = make_delivery(Channel.IN_APP)
    now = timezone.now()
    Delivery.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(seconds=121))
    Delivery.objects.filter(pk=fresh.pk).update(enqueued_at=now - timedelta(seconds=60))
    assert on_commit(services.requeue_stalled, now=now) == 1
    assert Delivery.objects.get(pk=lost.pk).status == DeliveryStatus.SENT
    assert Delivery.objects.get(pk=fresh.pk).status == DeliveryStatus.PENDING
    assert on_commit(services.requeue_stalled, now=now + timedelta(seconds=61)) == 1
    assert Delivery.objects.get(pk=fresh.pk).status == DeliveryStatus.SENT


def test_the_periodic_sweep_retries_a_due_delivery(make_delivery, on_commit, receiver):
    ImEndpoint.objects.create(name="ops", url=receiver.url)
    delivery = make_delivery(Channel.IM)
    receiver.statuses = [500]
    assert run_delivery(delivery.pk) == "retry"
    assert on_commit(sweep.call)["notifications"] == 0  # not due yet
    _due(delivery)
    assert on_commit(sweep.call)["notifications"] == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT
    assert len(receiver.requests) == 2


def test_a_sweep_run_with_a_later_clock_still_leaves_the_delivery_due(make_delivery, on_commit):
    """The sweep may be told a later `now` (a test, a clock ahead): the delivery it takes back must
    still be due for the worker that runs it by its own clock."""
    delivery = make_delivery(Channel.IN_APP)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=timezone.now() + timedelta(minutes=5)
    )
    later = timezone.now() + timedelta(minutes=20)
    assert on_commit(services.requeue_stalled, now=later) == 1
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
    assert run_delivery(delivery.pk) == "sent"
    (sent,) = mail.outbox
    assert link_line in sent.body.splitlines()
    assert footer in sent.body
