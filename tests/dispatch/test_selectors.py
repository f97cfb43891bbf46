"""Suggested engineers: who is offered, why, and in which order; and who sees which assignments."""

import pytest

from fieldservice.core.geo import great_circle_km
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.assignments.selectors import (
    assignments_for,
    candidates_for,
    my_assignments,
    provider_assignments_to_staff,
)
from tests import factories
from tests.dispatch.conftest import CIXI, NEAR_NINGBO, NINGBO, SHANGHAI, order_for


def by_engineer(candidates) -> dict:
    return {c.engineer: c for c in candidates}


def test_suitable_engineers_come_first_then_fewer_open_orders_then_nearer(world):
    ranked = [c.engineer for c in candidates_for(world.order, world.dispatcher)]
    assert ranked[:3] == [world.engineer, world.provider_engineer, world.far]
    assert set(ranked[3:]) == {world.unskilled, world.elsewhere, world.off_duty}
    assert world.on_leave not in ranked
    assert world.other_provider_engineer not in ranked


def test_each_unsuitable_engineer_says_why(world):
    found = by_engineer(candidates_for(world.order, world.dispatcher))
    flags = {
        person: (c.has_skill, c.covers_area, c.on_duty, c.is_suitable)
        for person, c in found.items()
        if person in (world.engineer, world.unskilled, world.elsewhere, world.off_duty)
    }
    assert flags == {
        world.engineer: (True, True, True, True),
        world.unskilled: (False, True, True, False),
        world.elsewhere: (True, False, True, False),
        world.off_duty: (True, True, False, False),
    }
    assert found[world.far].skill_level == 5
    assert found[world.unskilled].skill_level is None


def test_distance_is_from_the_home_base_to_the_site(world):
    found = by_engineer(candidates_for(world.order, world.dispatcher))
    expected = {
        world.engineer: great_circle_km(*NINGBO, *NEAR_NINGBO),
        world.provider_engineer: great_circle_km(*NINGBO, *CIXI),
        world.far: great_circle_km(*NINGBO, *SHANGHAI),
    }
    for person, km in expected.items():
        assert found[person].distance_km == round(km, 1)
    assert 0 < found[world.engineer].distance_km < 2
    assert 140 < found[world.far].distance_km < 170


def test_without_site_coordinates_there_is_no_distance(world):
    site = factories.site(world.customer_a, name="No GPS", city="Ningbo", latitude=None, longitude=None)
    order = order_for(world, site=site)
    assert {c.distance_km for c in candidates_for(order, world.dispatcher)} == {None}


def test_open_orders_weigh_against_distance_as_in_the_best_match_rule(world):
    other = order_for(world)
    services.dispatch_to_engineer(other, actor=world.dispatcher, engineer=world.engineer)
    ranked = candidates_for(world.order, world.dispatcher)
    # One more open order does not outweigh living 40 km nearer than the next one.
    suitable = [c.engineer for c in ranked if c.is_suitable]
    assert suitable[:3] == [world.engineer, world.provider_engineer, world.far]
    assert by_engineer(ranked)[world.engineer].open_orders == 1
    # With three more, it does.
    for _ in range(3):
        services.dispatch_to_engineer(order_for(world), actor=world.dispatcher, engineer=world.engineer)
    suitable = [c.engineer for c in candidates_for(world.order, world.dispatcher) if c.is_suitable]
    assert suitable[:2] == [world.provider_engineer, world.engineer]


def test_a_fault_without_a_skill_needs_none(world):
    order = order_for(world, fault=False)
    assert by_engineer(candidates_for(order, world.dispatcher))[world.unskilled].is_suitable


def test_a_providers_engineers_appear_only_for_customers_that_provider_serves(world):
    order_z = order_for(world, world.customer_z)
    ranked_z = [c.engineer for c in candidates_for(order_z, world.dispatcher)]
    assert world.provider_engineer not in ranked_z
    assert world.other_provider_engineer not in ranked_z
    assert world.engineer in ranked_z
    ranked_a = [c.engineer for c in candidates_for(world.order, world.dispatcher)]
    assert world.provider_engineer in ranked_a


def test_a_superuser_without_an_organisation_still_gets_our_engineers(world):
    ranked = [c.engineer for c in candidates_for(world.order, factories.system_user())]
    assert world.engineer in ranked and world.provider_engineer in ranked


@pytest.mark.parametrize("who", ["agent", "engineer", "provider_admin", "customer_user_a"])
def test_only_dispatchers_get_candidates(world, who):
    assert candidates_for(world.order, getattr(world, who)) == []


def test_limit(world):
    assert len(candidates_for(world.order, world.dispatcher, limit=3)) == 3


def test_who_sees_which_assignments(world):
    lead = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    assert list(provider_assignments_to_staff(world.provider_admin)) == [lead]
    assert list(provider_assignments_to_staff(world.other_provider_admin)) == []
    assert list(provider_assignments_to_staff(world.dispatcher)) == []
    assert not assignments_for(world.other_provider_admin).exists()
    assert not assignments_for(world.customer_user_z).exists()
    assert not assignments_for(world.provider_engineer).exists()
    services.assign_provider_engineer(lead, actor=world.provider_admin, engineer=world.provider_engineer)
    assert list(my_assignments(world.provider_engineer)) == [lead]
    assert list(provider_assignments_to_staff(world.provider_admin)) == []
