"""Who sees which offers (company scope, skill, area, status) and how far they are."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from fieldservice.pool import selectors, services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.services.log import log_event


@pytest.fixture
def offers(personas, pool):
    """Open offers: A's order for anyone (A is served by B), Z's order for anyone (nobody serves
    Z), an A order only for provider B, a Z order only for provider C."""
    from tests.pool.conftest import make_order

    return {
        "a_open": services.publish_to_pool(pool.order_a, actor=personas.dispatcher),
        "z_open": services.publish_to_pool(pool.order_z, actor=personas.dispatcher),
        "a_for_b": services.publish_to_pool(
            make_order(personas.customer_a, skill=pool.skill), actor=personas.dispatcher, provider=personas.provider
        ),
        "z_for_c": services.publish_to_pool(
            make_order(personas.customer_z, skill=pool.skill),
            actor=personas.dispatcher,
            provider=personas.other_provider,
        ),
    }


def _names(actor, offers):
    ids = set(selectors.offers_for(actor).values_list("pk", flat=True))
    return {name for name, offer in offers.items() if offer.pk in ids}


def test_each_company_sees_its_own_pool(personas, pool, offers):
    assert _names(personas.dispatcher, offers) == set(offers)
    assert _names(personas.engineer, offers) == {"a_open", "z_open"}
    assert _names(personas.provider_engineer, offers) == {"a_open", "a_for_b"}
    assert _names(pool.other_engineer, offers) == {"z_for_c"}


@pytest.mark.parametrize("who", ["provider_admin", "customer_user_a", "agent", "director"])
def test_people_who_do_not_grab_see_no_pool(personas, pool, offers, who):
    actor = getattr(personas, who)
    assert not selectors.offers_for(actor).exists()
    with pytest.raises(Http404):
        selectors.get_offer_for(actor, offers["a_open"].pk)


def test_another_providers_offer_is_not_found(personas, pool, offers):
    with pytest.raises(Http404):
        selectors.get_offer_for(pool.other_engineer, offers["a_for_b"].pk)
    with pytest.raises(Http404):
        selectors.get_offer_for(pool.other_engineer, offers["a_open"].pk)
    with pytest.raises(Http404):
        selectors.get_offer_for(personas.provider_engineer, offers["z_for_c"].pk)
    assert selectors.get_offer_for(pool.other_engineer, offers["z_for_c"].pk) == offers["z_for_c"]


def test_a_taken_offer_leaves_the_list_but_is_still_found_to_say_taken(personas, pool, offers):
    services.grab(offers["a_open"], actor=personas.engineer)
    assert "a_open" not in _names(personas.provider_engineer, offers)
    assert selectors.get_offer_for(personas.provider_engineer, offers["a_open"].pk).status == OfferStatus.AWARDED


def test_expired_and_unqualified_offers_are_not_listed(personas, pool, offers):
    PoolOffer.objects.filter(pk=offers["a_open"].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    PoolOffer.objects.filter(pk=offers["z_open"].pk).update(min_level=5)
    assert _names(personas.engineer, offers) == set()


def test_distance_is_from_the_home_base_or_a_recent_check_in(personas, pool, offers):
    [row] = [
        r
        for r in selectors.rows_for(personas.engineer, selectors.offers_for(personas.engineer))
        if r.offer.pk == offers["a_open"].pk
    ]
    # Home 29.9, 121.6; the site 29.868336, 121.543990: about 6.5 km.
    assert 6.0 < row.distance_km < 7.0
    log_event(
        pool.order_z,
        actor=personas.engineer,
        action="check_in",
        latitude=Decimal("29.868336"),
        longitude=Decimal("121.543990"),
    )
    assert selectors.position_of(personas.engineer) == (Decimal("29.868336"), Decimal("121.543990"))
    rows = selectors.rows_for(personas.engineer, selectors.offers_for(personas.engineer))
    assert [r.distance_km for r in rows] == [0.0, 0.0]


def test_a_check_in_of_yesterday_does_not_count(personas, pool):
    log_event(pool.order_z, actor=personas.engineer, action="check_in", latitude=1, longitude=1)
    assert selectors.position_of(personas.engineer, now=timezone.now() + timedelta(hours=13)) == (
        Decimal("29.900000"),
        Decimal("121.600000"),
    )


def test_polygon_areas_use_the_site_coordinates(personas, pool):
    from fieldservice.accounts.models import ServiceArea

    site = pool.order_a.site
    square = ServiceArea(polygon=[[121.5, 29.8], [121.6, 29.8], [121.6, 29.9], [121.5, 29.9], [121.5, 29.8]])
    assert selectors.area_covers(square, site)
    far = ServiceArea(polygon=[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30]])
    assert not selectors.area_covers(far, site)
    broken = ServiceArea(polygon=[["x"]], city="宁波市")
    assert selectors.area_covers(broken, site)  # falls back to the city
    assert not selectors.area_covers(ServiceArea(province="江苏省"), site)
