"""An offer leaves the pool as soon as its order is dispatched another way or cancelled."""

import pytest

from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.pool import services as pool
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.services import lifecycle
from tests import factories

pytestmark = pytest.mark.django_db


def _offer(personas):
    order = factories.work_order(personas.customer_z, actor=personas.agent)
    return order, pool.publish_to_pool(order, actor=personas.dispatcher)


def test_dispatching_an_order_directly_withdraws_its_offer(personas):
    order, offer = _offer(personas)
    engineer = factories.engineer(personas.own)
    dispatch.dispatch_to_engineer(order, actor=personas.dispatcher, engineer=engineer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.decided_by == personas.dispatcher
    assert not PoolOffer.objects.filter(work_order=order, status=OfferStatus.OPEN).exists()


def test_cancelling_an_order_withdraws_its_offer(personas):
    order, offer = _offer(personas)
    lifecycle.cancel_work_order(order, actor=personas.agent, reason="customer fixed it")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN


def test_a_grab_is_not_undone_by_its_own_dispatch(personas):
    order, offer = _offer(personas)
    engineer = factories.engineer(personas.own)
    pool.grab(offer, actor=engineer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.AWARDED
    assert offer.grabbed_by == engineer
