"""End to end: a work order made through the services reaches the dispatcher's bell through the
outbox, the consumer and the delivery task, each after its commit."""

from django.urls import reverse

from fieldservice.core.models import OutboxMessage
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, Notification
from tests import factories


def test_a_new_work_order_rings_the_dispatchers_bell(personas, client_for, django_capture_on_commit_callbacks):
    client = client_for(personas.dispatcher)
    assert 'data-unread="' not in client.get(reverse("notifications:bell")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        order = factories.work_order(personas.customer_a, actor=personas.agent)
    assert OutboxMessage.objects.get(topic="work_order.created").processed_at is not None
    note = Notification.objects.get(recipient=personas.dispatcher)
    assert note.event == "work_order.created" and order.number in note.title
    assert note.delivered_at is not None
    assert Delivery.objects.get(notification=note, channel=Channel.IN_APP).status == DeliveryStatus.SENT
    assert not Notification.objects.exclude(recipient=personas.dispatcher).exists()  # the agent made it
    assert 'data-unread="1"' in client.get(reverse("notifications:bell")).content.decode()
    page = client.get(reverse("notifications:list")).content.decode()
    assert order.number in page
    assert 'data-unread="' not in client_for(personas.engineer).get(reverse("notifications:bell")).content.decode()


def test_without_the_commit_nothing_is_sent(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        factories.work_order(personas.customer_a, actor=personas.agent)
    assert not Notification.objects.exists()
