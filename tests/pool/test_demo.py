"""The demo publishes a few waiting orders to the pool."""

import random

from django.utils import timezone

from fieldservice.pool import demo
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus
from tests.pool.conftest import make_order


def test_the_demo_publishes_new_orders_once(personas, pool):
    extra = [make_order(personas.customer_z) for _ in range(4)]
    offers = demo.seed(random.Random(1), timezone.now())
    assert len(offers) == demo.DEMO_OFFERS
    assert all(o.status == OfferStatus.OPEN and o.published_by == personas.dispatcher for o in offers)
    assert {o.work_order_id for o in offers} <= {o.pk for o in [pool.order_a, pool.order_z, *extra]}
    assert [o.requires_approval for o in offers].count(True) == 1
    # Run again: the orders already in the pool are left alone, the two others are published.
    again = demo.seed(random.Random(2), timezone.now())
    assert len(again) == 2
    assert PoolOffer.objects.count() == 6
    assert all(o.work_order.status == WorkOrderStatus.NEW for o in PoolOffer.objects.all())
