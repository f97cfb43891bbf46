"""Contact-addressed messages: a customer's contact is no user, yet gets an SMS or an e-mail
through the same deliveries (customer care writes them; see consumers.notify_contacts)."""

import pytest

from fieldservice.core.models import OutboxMessage
from fieldservice.notifications import consumers
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, Notification
from fieldservice.notifications.tasks import run_delivery

pytestmark = pytest.mark.django_db


def _message(contacts, key=None):
    return OutboxMessage.objects.create(
        topic="care.message", payload={"event": "care.message", "contacts": contacts}, key=key
    )


def test_each_usable_contact_gets_one_notification_and_one_delivery(django_capture_on_commit_callbacks):
    msg = _message(
        [
            {"ref": "a", "channel": "email", "phone": "+8613800000000", "email": "", "body": "x"},  # no address
            {"ref": "b", "channel": "fax", "phone": "+8613800000000", "body": "x"},  # no such channel
            {"ref": "c", "channel": "sms", "phone": "+8613800000001", "subject": "Hi", "body": "Happy new year"},
            {"ref": "d", "channel": "email", "email": "li@example.com", "name": "Li", "subject": "S", "body": "B"},
            "junk",
        ],
        key="care:1",
    )
    with django_capture_on_commit_callbacks(execute=False):
        consumers.consume(msg)
    rows = {n.key: n for n in Notification.objects.all()}
    assert set(rows) == {"care:1:c", "care:1:d"}
    assert (rows["care:1:c"].to_phone, rows["care:1:c"].title, rows["care:1:c"].recipient) == (
        "+8613800000001",
        "Hi",
        None,
    )
    assert rows["care:1:d"].addressee == "Li li@example.com"
    assert {(d.notification.key, d.channel) for d in Delivery.objects.select_related("notification")} == {
        ("care:1:c", Channel.SMS),
        ("care:1:d", Channel.EMAIL),
    }
    with django_capture_on_commit_callbacks(execute=False):
        consumers.consume(msg)  # consumed twice: nothing twice
    assert Notification.objects.count() == 2 and Delivery.objects.count() == 2


def test_an_sms_to_a_contact_without_a_gateway_waits_without_failing_the_destination(
    django_capture_on_commit_callbacks,
):
    msg = _message([{"ref": "c", "channel": "sms", "phone": "+8613800000001", "body": "x"}])
    with django_capture_on_commit_callbacks(execute=False):
        [delivery_id] = consumers.notify_contacts(msg, msg.payload)
    attempt = run_delivery(delivery_id)
    assert attempt.result == "retry" and not attempt.destination_failed
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.PENDING and "gateway" in delivery.last_error
