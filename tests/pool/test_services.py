"""Publishing, grabbing, approving, declining and withdrawing pool offers."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.accounts.choices import Availability, OrganisationKind
from fieldservice.accounts.models import EngineerProfile, ServiceArea
from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field.selectors import today_for
from fieldservice.pool import services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrderEvent
from tests import factories
from tests.pool.conftest import give_profile, make_order


def _state(offer, order):
    offer.refresh_from_db()
    order.refresh_from_db()
    return offer.status, offer.grabbed_by_id, order.status, order.assignments.count()


# --- publish -----------------------------------------------------------------------------------


def test_a_dispatcher_publishes_an_order_with_its_skill_and_the_default_time(personas, pool, settings):
    settings.FSM_POOL_MINUTES = 45
    before = timezone.now()
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, note=" urgent customer ")
    assert offer.status == OfferStatus.OPEN
    assert offer.skill == pool.skill and offer.min_level == 1
    assert offer.published_by == personas.dispatcher and offer.note == "urgent customer"
    assert before + timedelta(minutes=45) <= offer.expires_at <= timezone.now() + timedelta(minutes=45)
    assert WorkOrderEvent.objects.filter(work_order=pool.order_a, action="pool_published").count() == 1
    pool.order_a.refresh_from_db()
    assert pool.order_a.status == WorkOrderStatus.NEW  # still the dispatcher's until someone grabs it


def test_a_rule_publishes_without_an_actor(personas, pool):
    offer = services.publish_to_pool(pool.order_a, minutes=10, requires_approval=True)
    assert offer.published_by is None and offer.requires_approval
    assert offer.expires_at - offer.published_at == timedelta(minutes=10)


@pytest.mark.parametrize("who", ["engineer", "agent", "provider_admin", "customer_user_a"])
def test_only_our_dispatchers_publish(personas, pool, who):
    with pytest.raises(PermissionDenied):
        services.publish_to_pool(pool.order_a, actor=getattr(personas, who))
    assert not PoolOffer.objects.exists()
    assert not WorkOrderEvent.objects.filter(action="pool_published").exists()


def test_an_order_is_in_the_pool_once(personas, pool):
    services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    with pytest.raises(DomainError) as error:
        services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    assert error.value.code == "already_in_pool"
    assert PoolOffer.objects.filter(work_order=pool.order_a).count() == 1


def test_a_dispatched_order_cannot_be_published(personas, pool):
    dispatch_to_engineer(pool.order_a, actor=personas.dispatcher, engineer=personas.engineer)
    with pytest.raises(DomainError) as error:
        services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    assert error.value.code == "not_dispatchable"
    assert not PoolOffer.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"minutes": 0}, "minutes"), ({"minutes": 10081}, "minutes"), ({"note": "x" * 301}, "note")],
)
def test_bad_values_are_field_errors(personas, pool, kwargs, field):
    with pytest.raises(ValidationError) as error:
        services.publish_to_pool(pool.order_a, actor=personas.dispatcher, **kwargs)
    assert field in error.value.error_dict
    assert not PoolOffer.objects.exists()


def test_only_a_provider_may_restrict_an_offer(personas, pool):
    with pytest.raises(ValidationError) as error:
        services.publish_to_pool(pool.order_a, actor=personas.dispatcher, provider=personas.customer_a.organisation)
    assert "provider" in error.value.error_dict
    assert personas.customer_a.organisation.kind == OrganisationKind.CUSTOMER
    assert not PoolOffer.objects.exists()


def test_the_offer_takes_the_engineer_areas_that_cover_the_site(personas, pool):
    ningbo = ServiceArea.objects.create(name="Ningbo", province="浙江省", city="宁波市")
    elsewhere = ServiceArea.objects.create(
        name="Somewhere else", polygon=[[100, 10], [101, 10], [101, 11], [100, 11], [100, 10]]
    )
    around_site = ServiceArea.objects.create(
        name="Around the site", polygon=[[121.5, 29.8], [121.6, 29.8], [121.6, 29.9], [121.5, 29.9], [121.5, 29.8]]
    )
    unused = ServiceArea.objects.create(name="Nobody covers it", city="宁波市")
    give_profile(personas.engineer, skill=pool.skill, areas=[ningbo, elsewhere, around_site])
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    assert set(offer.areas.all()) == {ningbo, around_site}
    assert unused not in offer.areas.all()


# --- grab --------------------------------------------------------------------------------------


def test_a_grab_without_approval_makes_the_engineer_the_accepted_lead(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    services.grab(offer, actor=personas.engineer)
    offer.refresh_from_db()
    pool.order_a.refresh_from_db()
    assert offer.status == OfferStatus.AWARDED and offer.grabbed_by == personas.engineer
    assert pool.order_a.status == WorkOrderStatus.ACCEPTED
    [assignment] = Assignment.objects.filter(work_order=pool.order_a)
    assert (assignment.engineer, assignment.role, assignment.status) == (
        personas.engineer,
        AssignmentRole.LEAD,
        AssignmentStatus.ACCEPTED,
    )
    actions = list(WorkOrderEvent.objects.filter(work_order=pool.order_a).values_list("action", flat=True))
    assert actions[-3:] == ["pool_grabbed", "dispatch", "accept"]
    assert [a.work_order for a in today_for(personas.engineer).working] == [pool.order_a]


def test_the_second_grab_is_told_the_order_is_taken(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    services.grab(offer, actor=personas.engineer)
    before = _state(offer, pool.order_a)
    with pytest.raises(DomainError) as error:
        services.grab(PoolOffer.objects.get(pk=offer.pk), actor=personas.provider_engineer)
    assert error.value.code == "taken"
    assert "already been taken by another engineer" in error.value.message
    assert _state(offer, pool.order_a) == before


def test_a_grab_needing_approval_waits_for_the_dispatcher(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    assert _state(offer, pool.order_a) == (OfferStatus.GRABBED, personas.engineer.pk, WorkOrderStatus.NEW, 0)
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.provider_engineer)
    assert error.value.code == "taken"
    with pytest.raises(PermissionDenied):
        services.approve_grab(offer, actor=personas.engineer)
    services.approve_grab(offer, actor=personas.dispatcher)
    offer.refresh_from_db()
    assert offer.decided_by == personas.dispatcher
    assert _state(offer, pool.order_a) == (OfferStatus.AWARDED, personas.engineer.pk, WorkOrderStatus.ACCEPTED, 1)
    assert Assignment.objects.get(work_order=pool.order_a).status == AssignmentStatus.ACCEPTED


def test_a_declined_grab_reopens_the_offer_for_others(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    services.decline_grab(offer, actor=personas.dispatcher, reason="He is too far")
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)
    services.grab(offer, actor=personas.provider_engineer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.GRABBED and offer.grabbed_by == personas.provider_engineer
    services.decline_grab(offer, actor=personas.dispatcher)
    with pytest.raises(DomainError) as error:
        services.approve_grab(offer, actor=personas.dispatcher)  # open again: nothing to approve
    assert error.value.code == "not_waiting"
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_a_grab_declined_after_its_time_ends_expired(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=5, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        services.decline_grab(offer, actor=personas.dispatcher)
    assert _state(offer, pool.order_a) == (OfferStatus.EXPIRED, None, WorkOrderStatus.NEW, 0)


def test_a_grab_after_the_time_is_over_is_refused(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, minutes=5)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)), pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "expired"
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_an_engineer_without_the_skill_level_cannot_grab(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    PoolOffer.objects.filter(pk=offer.pk).update(min_level=4)  # our engineer has level 3
    with pytest.raises(DomainError) as error:
        services.grab(PoolOffer.objects.get(pk=offer.pk), actor=personas.engineer)
    assert error.value.code == "not_eligible"
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_an_engineer_outside_the_areas_cannot_grab(personas, pool):
    ningbo = ServiceArea.objects.create(name="Ningbo", city="宁波市")
    give_profile(personas.provider_engineer, skill=pool.skill, areas=[ningbo])
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    assert list(offer.areas.all()) == [ningbo]
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)  # covers no area
    assert error.value.code == "not_eligible"
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)
    services.grab(offer, actor=personas.provider_engineer)
    assert _state(offer, pool.order_a)[0] == OfferStatus.AWARDED


def test_an_engineer_on_leave_cannot_grab(personas, pool):
    EngineerProfile.objects.filter(user=personas.engineer).update(availability=Availability.ON_LEAVE)
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "not_eligible"
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_another_providers_engineer_cannot_grab(personas, pool):
    """Customer A is served by provider B: C's engineer may not take its order."""
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    with pytest.raises(PermissionDenied):
        services.grab(offer, actor=pool.other_engineer)
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_an_offer_for_a_provider_is_only_for_its_engineers(personas, pool):
    offer = services.publish_to_pool(pool.order_z, actor=personas.dispatcher, provider=personas.other_provider)
    for outsider in (personas.engineer, personas.provider_engineer):
        with pytest.raises(PermissionDenied):
            services.grab(offer, actor=outsider)
    assert _state(offer, pool.order_z) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)
    services.grab(offer, actor=pool.other_engineer)
    assert _state(offer, pool.order_z)[:2] == (OfferStatus.AWARDED, pool.other_engineer.pk)


@pytest.mark.parametrize("who", ["dispatcher", "provider_admin", "customer_user_a"])
def test_only_engineers_grab(personas, pool, who):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    with pytest.raises(PermissionDenied):
        services.grab(offer, actor=getattr(personas, who))
    assert _state(offer, pool.order_a) == (OfferStatus.OPEN, None, WorkOrderStatus.NEW, 0)


def test_an_order_dispatched_directly_cannot_be_grabbed(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    dispatch_to_engineer(pool.order_a, actor=personas.dispatcher, engineer=personas.provider_engineer)
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "withdrawn"
    assert _state(offer, pool.order_a) == (OfferStatus.WITHDRAWN, None, WorkOrderStatus.DISPATCHED, 1)


# --- withdraw ------------------------------------------------------------------------------------


def test_a_withdrawn_offer_cannot_be_grabbed(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    with pytest.raises(ValidationError) as error:
        services.withdraw_offer(offer, actor=personas.dispatcher, reason=" ")
    assert "reason" in error.value.error_dict
    with pytest.raises(PermissionDenied):
        services.withdraw_offer(offer, actor=personas.engineer, reason="mine")
    assert _state(offer, pool.order_a)[0] == OfferStatus.OPEN
    services.withdraw_offer(offer, actor=personas.dispatcher, reason="Customer asked for Li")
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "withdrawn"
    with pytest.raises(DomainError) as error:
        services.withdraw_offer(offer, actor=personas.dispatcher, reason="again")
    assert error.value.code == "not_active"
    assert _state(offer, pool.order_a) == (OfferStatus.WITHDRAWN, None, WorkOrderStatus.NEW, 0)
    # The order may go to the pool again.
    assert services.publish_to_pool(pool.order_a, actor=personas.dispatcher).status == OfferStatus.OPEN


def test_a_grabbing_engineer_cannot_grab_twice(personas, pool):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    with pytest.raises(DomainError) as error:
        services.grab(offer, actor=personas.engineer)
    assert error.value.code == "already_grabbed"
    assert _state(offer, pool.order_a) == (OfferStatus.GRABBED, personas.engineer.pk, WorkOrderStatus.NEW, 0)


def test_a_new_engineer_made_for_the_test_may_grab(personas, pool):
    """Any of our engineers with the skill qualifies, not only the personas."""
    newcomer = factories.engineer(personas.own, skills={pool.skill: 1})
    offer = services.publish_to_pool(make_order(personas.customer_z, skill=pool.skill), actor=personas.dispatcher)
    services.grab(offer, actor=newcomer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.AWARDED and offer.grabbed_by == newcomer
