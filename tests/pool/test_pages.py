"""The engineer's pool page, the dispatcher's pool page, and the forms behind their buttons."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from fieldservice.dispatch.models import Assignment
from fieldservice.pool import services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _snapshot(order):
    order.refresh_from_db()
    return (
        order.status,
        list(PoolOffer.objects.filter(work_order=order).values_list("status", "grabbed_by", "decided_by")),
        Assignment.objects.filter(work_order=order).count(),
    )


# --- the engineer's phone page ----------------------------------------------------------------------


def test_the_engineer_sees_the_pool_with_distance_and_a_grab_button(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, note="Bring the gauge")
    response = client_for(personas.engineer).get("/pool/")
    assert response.status_code == 200
    page = response.content.decode()
    assert pool.order_a.number in page and "Bring the gauge" in page
    assert f'action="/pool/offers/{offer.pk}/grab/"' in page
    assert "6.5 km" in page or "6.4 km" in page or "6.6 km" in page
    assert "液压" in page  # the skill it needs


def test_the_phone_home_links_to_the_pool(personas, client_for):
    page = client_for(personas.engineer).get("/m/").content.decode()
    assert 'href="/pool/"' in page


def test_a_grab_from_the_phone_takes_the_engineer_to_the_order(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    response = client_for(personas.engineer).post(f"/pool/offers/{offer.pk}/grab/")
    assert response.status_code == 302 and response.url == f"/m/orders/{pool.order_a.pk}/"
    assert _snapshot(pool.order_a)[0] == WorkOrderStatus.ACCEPTED


def test_a_late_grab_is_told_clearly_the_order_is_taken(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    services.grab(offer, actor=personas.engineer)
    before = _snapshot(pool.order_a)
    response = client_for(personas.provider_engineer).post(f"/pool/offers/{offer.pk}/grab/", follow=True)
    assert response.redirect_chain[-1][0] == "/pool/"
    assert any("already been taken by another engineer" in m for m in _messages(response))
    assert _snapshot(pool.order_a) == before


def test_another_providers_engineer_neither_sees_nor_grabs(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    client = client_for(pool.other_engineer)
    assert pool.order_a.number not in client.get("/pool/").content.decode()
    before = _snapshot(pool.order_a)
    assert client.post(f"/pool/offers/{offer.pk}/grab/").status_code == 404
    assert _snapshot(pool.order_a) == before


@pytest.mark.parametrize("who", ["dispatcher", "provider_admin", "customer_user_a"])
def test_people_who_do_not_grab_get_403_on_the_phone_pool(personas, pool, client_for, who):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    client = client_for(getattr(personas, who))
    assert client.get("/pool/").status_code == 403
    before = _snapshot(pool.order_a)
    assert client.post(f"/pool/offers/{offer.pk}/grab/").status_code == 403
    assert _snapshot(pool.order_a) == before


def test_a_grab_needing_approval_shows_as_waiting(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    client = client_for(personas.engineer)
    response = client.post(f"/pool/offers/{offer.pk}/grab/", follow=True)
    assert response.redirect_chain[-1][0] == "/pool/"
    page = response.content.decode()
    assert 'id="pool-pending"' in page and pool.order_a.number in page


# --- the dispatcher's pages ----------------------------------------------------------------------


def test_the_dispatcher_manages_the_pool(personas, pool, client_for):
    waiting = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(waiting, actor=personas.engineer)
    open_offer = services.publish_to_pool(pool.order_z, actor=personas.dispatcher)
    client = client_for(personas.dispatcher)
    page = client.get("/pool/manage/").content.decode()
    assert f'id="pending-{waiting.pk}"' in page and f'id="open-{open_offer.pk}"' in page

    response = client.post(f"/pool/offers/{waiting.pk}/approve/")
    assert response.status_code == 302 and response.url == "/pool/manage/"
    assert _snapshot(pool.order_a)[0] == WorkOrderStatus.ACCEPTED

    response = client.post(f"/pool/offers/{open_offer.pk}/withdraw/", {"reason": ""}, follow=True)
    assert any("Give a reason" in m for m in _messages(response))
    assert PoolOffer.objects.get(pk=open_offer.pk).status == OfferStatus.OPEN
    client.post(f"/pool/offers/{open_offer.pk}/withdraw/", {"reason": "Customer called"})
    assert PoolOffer.objects.get(pk=open_offer.pk).status == OfferStatus.WITHDRAWN


def test_the_dispatcher_declines_a_grab(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    client_for(personas.dispatcher).post(f"/pool/offers/{offer.pk}/decline/", {"reason": "Too far"})
    offer.refresh_from_db()
    assert offer.status == OfferStatus.OPEN and offer.grabbed_by is None


def test_the_manage_page_lists_expired_offers(personas, pool, client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=1)
    PoolOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    services.expire_offers()
    page = client_for(personas.dispatcher).get("/pool/manage/").content.decode()
    assert f'id="expired-{offer.pk}"' in page


def test_the_dispatcher_publishes_from_the_order_page_form(personas, pool, client_for):
    client = client_for(personas.dispatcher)
    next_url = f"/dispatch/orders/{pool.order_a.pk}/"
    response = client.post(
        f"/pool/orders/{pool.order_a.pk}/publish/",
        {"minutes": "20", "requires_approval": "on", "provider": personas.provider.pk, "note": "x", "next": next_url},
    )
    assert response.status_code == 302 and response.url == next_url
    offer = PoolOffer.objects.get(work_order=pool.order_a)
    assert offer.requires_approval and offer.provider == personas.provider
    assert offer.expires_at - offer.published_at == timedelta(minutes=20)
    # A second publish is refused with the service's message; nothing more is created.
    response = client.post(f"/pool/orders/{pool.order_a.pk}/publish/", {"minutes": "20"}, follow=True)
    assert any("already in the grab pool" in m for m in _messages(response))
    assert PoolOffer.objects.filter(work_order=pool.order_a).count() == 1


def test_publish_refuses_a_bad_form_and_an_outside_redirect(personas, pool, client_for):
    client = client_for(personas.dispatcher)
    response = client.post(
        f"/pool/orders/{pool.order_a.pk}/publish/", {"minutes": "0", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == f"/dispatch/orders/{pool.order_a.pk}/"
    assert not PoolOffer.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "provider_engineer", "provider_admin", "agent", "customer_user_a"])
def test_only_dispatchers_use_the_desk_pool(personas, pool, client_for, who):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    client = client_for(getattr(personas, who))
    before = _snapshot(pool.order_a)
    assert client.get("/pool/manage/").status_code == 403
    for verb in ("approve", "decline", "withdraw"):
        assert client.post(f"/pool/offers/{offer.pk}/{verb}/", {"reason": "x"}).status_code in (403, 404)
    assert client.post(f"/pool/orders/{pool.order_z.pk}/publish/", {"minutes": "20"}).status_code in (403, 404)
    assert _snapshot(pool.order_a) == before
    assert not PoolOffer.objects.filter(work_order=pool.order_z).exists()


# --- the order page panel ---------------------------------------------------------------------------


def _panel(user, order) -> str:
    request = RequestFactory().get(f"/dispatch/orders/{order.pk}/")
    request.user = user
    return Template("{% load pool_tags %}{% pool_panel order %}").render(
        Context({"request": request, "order": order, "csrf_token": "t"})
    )


def test_the_panel_publishes_or_shows_the_active_offer(personas, pool):
    html = _panel(personas.dispatcher, pool.order_a)
    assert f'action="/pool/orders/{pool.order_a.pk}/publish/"' in html and 'name="minutes"' in html
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    html = _panel(personas.dispatcher, pool.order_a)
    assert f'action="/pool/offers/{offer.pk}/withdraw/"' in html and "publish" not in html
    assert _panel(personas.engineer, pool.order_a).strip() == ""


def test_no_empty_pool_panel_on_an_order_that_was_never_in_the_pool_and_is_dispatched(personas, pool, client_for):
    """A dispatched order cannot be published and has no offer: a "Grab pool" heading alone
    would be an empty panel."""
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer

    dispatch_to_engineer(pool.order_a, actor=personas.dispatcher, engineer=personas.engineer)
    assert _panel(personas.dispatcher, pool.order_a).strip() == ""
    page = client_for(personas.dispatcher).get(f"/dispatch/orders/{pool.order_a.pk}/").content.decode()
    assert 'id="pool-panel"' not in page
    # An order that was in the pool still says how its last offer ended.
    offer = services.publish_to_pool(pool.order_z, actor=personas.dispatcher)
    services.withdraw_offer(offer, actor=personas.dispatcher, reason="customer called")
    dispatch_to_engineer(pool.order_z, actor=personas.dispatcher, engineer=personas.engineer)
    assert 'id="pool-panel"' in _panel(personas.dispatcher, pool.order_z)
