"""Offers nobody grabbed in time go back to the dispatchers with an alert (periodic "pool.expire")."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from fieldservice.core import outbox
from fieldservice.core.errors import DomainError
from fieldservice.core.models import OutboxMessage
from fieldservice.core.periodic import CHECKS
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.notifications.models import Notification
from fieldservice.pool import services, tasks
from fieldservice.pool.choices import OfferStatus
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrderEvent
from fieldservice.workorders.selectors import orders_to_dispatch


def test_the_expiry_check_is_registered_every_minute():
    assert CHECKS["pool.expire"] == ("fieldservice.pool.tasks.expire_offers", 60)
    assert callable(tasks.expire_offers.func)


def test_an_unclaimed_offer_expires_and_the_dispatchers_are_alerted(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=30)
    later = services.publish_to_pool(pool.order_z, actor=personas.dispatcher, minutes=90)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert services.expire_offers()["expired"] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        counts = services.expire_offers()
        assert counts == {"expired": 1, "alerted": 1, "withdrawn": 0}
        # A second run (another worker, a restart) changes and sends nothing more.
        assert services.expire_offers() == {"expired": 0, "alerted": 0, "withdrawn": 0}
    offer.refresh_from_db()
    later.refresh_from_db()
    assert (offer.status, later.status) == (OfferStatus.EXPIRED, OfferStatus.OPEN)
    pool.order_a.refresh_from_db()
    assert pool.order_a.status == WorkOrderStatus.NEW
    assert pool.order_a in orders_to_dispatch(personas.dispatcher)
    assert WorkOrderEvent.objects.filter(work_order=pool.order_a, action="pool_expired").count() == 1

    [message] = OutboxMessage.objects.filter(topic="pool.expired")
    assert message.key == f"pool-expired:{offer.pk}"
    assert message.payload["recipients"] == [personas.dispatcher.pk]
    assert message.payload["url"] == f"/dispatch/orders/{pool.order_a.pk}/"
    with time_machine.travel(timezone.now() + timedelta(minutes=32)):
        outbox.drain()  # the messages were written at the travelled time
    [alert] = Notification.objects.filter(event="pool.expired")
    assert alert.recipient == personas.dispatcher
    assert pool.order_a.number in alert.title
    assert alert.url == f"/dispatch/orders/{pool.order_a.pk}/"


def test_the_expired_offer_cannot_be_grabbed_and_the_order_may_be_published_again(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=5)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        services.expire_offers()
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "expired"
    assert services.publish_to_pool(pool.order_a, actor=personas.dispatcher).status == OfferStatus.OPEN


def test_a_grab_waiting_for_approval_does_not_expire(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=5, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert services.expire_offers()["expired"] == 0
    offer.refresh_from_db()
    assert offer.status == OfferStatus.GRABBED
    assert not OutboxMessage.objects.filter(topic="pool.expired").exists()


def test_an_offer_whose_order_moved_on_is_withdrawn(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    dispatch_to_engineer(pool.order_a, actor=personas.dispatcher, engineer=personas.engineer)
    # The dispatch itself took the offer out of the pool; the check finds nothing left to do.
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert services.expire_offers() == {"expired": 0, "alerted": 0, "withdrawn": 0}
    assert not OutboxMessage.objects.filter(topic="pool.expired").exists()


def test_a_grab_waiting_for_approval_alerts_the_dispatchers_and_a_decline_tells_the_engineer(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    outbox.drain()
    [alert] = Notification.objects.filter(event="pool.approval_needed")
    assert alert.recipient == personas.dispatcher
    assert pool.order_a.number in alert.title and str(personas.engineer) in alert.title
    assert alert.url == "/pool/manage/"
    assert not Notification.objects.filter(event="pool.grab_declined").exists()

    services.decline_grab(offer, actor=personas.dispatcher, reason="The customer asked for Zhang.")
    outbox.drain()
    [declined] = Notification.objects.filter(event="pool.grab_declined")
    assert declined.recipient == personas.engineer
    assert pool.order_a.number in declined.title
    assert "Zhang" in declined.body
