"""50 engineers grab one pool order at the same moment, 200 times over (PostgreSQL): each time
exactly one wins, and the 49 others are told clearly that the order is taken."""

import pytest

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError
from fieldservice.core.outbox import drain_left_to_recovery
from fieldservice.dispatch.assignments.services import revoke_assignment
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.pool import services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import create_work_order
from tests import factories
from tests.concurrency import concurrent_rounds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

GRABBERS = 50
ROUNDS = int(__import__("os").environ.get("POOL_ROUNDS", "200"))


def test_fifty_simultaneous_grabs_leave_exactly_one_winner():
    root = factories.system_user()
    own = factories.own_company()
    skill = factories.skill("hydraulics")
    category = factories.fault_category(skill=skill)
    engineer_ids = [factories.engineer(own, skills={skill: 2}).pk for _ in range(GRABBERS)]
    customer = factories.customer(actor=root)
    site = factories.site(customer, actor=root)
    engineers = User.objects.in_bulk(engineer_ids)

    def grab_as(engineer: User):
        def grab(offer_id: int):
            # What each win notifies is not measured here: the messages wait for the recovery to drain them.
            with drain_left_to_recovery():
                return services.grab(PoolOffer.objects.get(pk=offer_id), actor=engineer)

        return grab

    offer_ids: list[int] = []
    # Each grabber keeps its thread and connection for all rounds.
    grabbers = concurrent_rounds(*[grab_as(engineers[pk]) for pk in engineer_ids])
    with grabbers as run_round, drain_left_to_recovery():
        request = factories.service_request(customer, actor=root, fault_category=category)
        order = create_work_order(request, actor=root, site=site)
        for round_ in range(ROUNDS):
            if round_:
                # Give the order back to dispatch, so each round is a new offer of a NEW order
                # (cheaper than making 200 orders).
                lead = Assignment.objects.get(work_order=order, status=AssignmentStatus.ACCEPTED)
                revoke_assignment(lead, actor=root, reason="next round")
            offer_ids.append(services.publish_to_pool(order, minutes=30).pk)

            results = run_round(offer_ids[round_])
            winners = [engineer_ids[i] for i, (kind, _) in enumerate(results) if kind == "ok"]
            errors = [exc for kind, exc in results if kind == "error"]
            assert len(winners) == 1, (round_, results)
            assert len(errors) == GRABBERS - 1
            for exc in errors:
                assert isinstance(exc, DomainError), (round_, exc)
                assert exc.code == "taken", (round_, exc.code, exc.message)
                assert "already been taken by another engineer" in exc.message
            offer = PoolOffer.objects.get(pk=offer_ids[round_])
            assert (offer.status, offer.grabbed_by_id) == (OfferStatus.AWARDED, winners[0])
            [assignment] = Assignment.objects.filter(work_order=order, status__in=["offered", "accepted"])
            assert (assignment.engineer_id, assignment.status) == (winners[0], AssignmentStatus.ACCEPTED)
            assert WorkOrder.objects.get(pk=order.pk).status == WorkOrderStatus.ACCEPTED
    assert len({o.grabbed_by_id for o in PoolOffer.objects.filter(pk__in=offer_ids)}) > 1  # not one lucky thread
