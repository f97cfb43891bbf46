"""Giving orders out and taking them back: every move is the documented one or a clear refusal
that changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services import lifecycle
from tests.dispatch.conftest import order_for

S = WorkOrderStatus
A = AssignmentStatus


def status_of(order) -> str:
    return WorkOrder.objects.get(pk=order.pk).status


def assignments(order) -> list[tuple]:
    return list(
        Assignment.objects.filter(work_order=order)
        .order_by("pk")
        .values_list("engineer_id", "provider_id", "role", "status")
    )


def actions(order) -> list[str]:
    return list(order.events.order_by("pk").values_list("action", flat=True))


def dispatched(world, engineer=None):
    return services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=engineer or world.engineer)


# Dispatching to an engineer


def test_dispatch_to_an_engineer_offers_the_order(world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer, note="Hi")
    assert (assignment.engineer, assignment.provider, assignment.role, assignment.status) == (
        world.engineer,
        None,
        AssignmentRole.LEAD,
        A.OFFERED,
    )
    assert assignment.assigned_by == world.dispatcher
    assert status_of(world.order) == S.DISPATCHED
    entry = world.order.events.latest("pk")
    assert (entry.action, entry.from_status, entry.to_status, entry.actor, entry.note) == (
        "dispatch",
        S.NEW,
        S.DISPATCHED,
        world.dispatcher,
        "Hi",
    )
    assert entry.payload["engineer"] == world.engineer.pk


def test_a_second_lead_is_refused(world):
    dispatched(world)
    before = assignments(world.order)
    with pytest.raises(DomainError) as excinfo:
        services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.far)
    assert excinfo.value.code == "already_dispatched"
    with pytest.raises(DomainError) as excinfo:
        services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    assert excinfo.value.code == "already_dispatched"
    assert assignments(world.order) == before
    assert status_of(world.order) == S.DISPATCHED


@pytest.mark.parametrize("who", ["agent", "engineer", "provider_admin", "customer_user_a", "director"])
def test_only_dispatchers_dispatch(world, who):
    with pytest.raises(PermissionDenied):
        services.dispatch_to_engineer(world.order, actor=getattr(world, who), engineer=world.engineer)
    with pytest.raises(PermissionDenied):
        services.dispatch_to_provider(world.order, actor=getattr(world, who), provider=world.provider)
    assert assignments(world.order) == []
    assert status_of(world.order) == S.NEW


def test_an_engineer_of_a_company_that_does_not_serve_the_customer_is_a_field_error(world):
    with pytest.raises(ValidationError) as excinfo:
        services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.other_provider_engineer)
    assert set(excinfo.value.error_dict) == {"engineer"}
    # Provider B serves customer A, not customer Z.
    order_z = order_for(world, world.customer_z)
    with pytest.raises(ValidationError) as excinfo:
        services.dispatch_to_engineer(order_z, actor=world.dispatcher, engineer=world.provider_engineer)
    assert set(excinfo.value.error_dict) == {"engineer"}
    assert assignments(world.order) == [] and assignments(order_z) == []
    assert status_of(world.order) == status_of(order_z) == S.NEW


def test_provider_engineer_may_be_dispatched_directly_for_a_customer_the_provider_serves(world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.provider_engineer)
    assert assignment.engineer == world.provider_engineer
    assert status_of(world.order) == S.DISPATCHED


def test_an_engineer_on_leave_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.on_leave)
    assert excinfo.value.error_dict["engineer"][0].code == "on_leave"
    assert assignments(world.order) == []
    assert status_of(world.order) == S.NEW


def test_someone_who_is_not_an_engineer_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.agent)
    assert excinfo.value.error_dict["engineer"][0].code == "not_an_engineer"
    assert assignments(world.order) == []


def test_a_cancelled_order_cannot_be_dispatched(world):
    lifecycle.cancel_work_order(world.order, actor=world.agent, reason="Duplicate")
    with pytest.raises(DomainError) as excinfo:
        dispatched(world)
    assert excinfo.value.code == "illegal_transition"
    assert assignments(world.order) == []
    assert status_of(world.order) == S.CANCELLED


# Through a provider


def test_provider_admin_assigns_their_own_engineer_who_then_accepts(world):
    assignment = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    assert (assignment.provider, assignment.engineer, assignment.status) == (world.provider, None, A.OFFERED)
    assert status_of(world.order) == S.DISPATCHED
    # Nobody can accept before the provider names an engineer.
    with pytest.raises(PermissionDenied):
        services.accept_assignment(assignment, actor=world.provider_engineer)
    services.assign_provider_engineer(assignment, actor=world.provider_admin, engineer=world.provider_engineer)
    assignment.refresh_from_db()
    assert (assignment.engineer, assignment.status) == (world.provider_engineer, A.OFFERED)
    assert actions(world.order)[-1] == "provider_assigned"
    services.accept_assignment(assignment, actor=world.provider_engineer)
    assert status_of(world.order) == S.ACCEPTED
    with pytest.raises(DomainError) as excinfo:
        services.assign_provider_engineer(assignment, actor=world.provider_admin, engineer=world.provider_engineer)
    assert excinfo.value.code == "already_assigned"


def test_another_providers_admin_may_not_assign(world):
    assignment = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    for outsider in (world.other_provider_admin, world.dispatcher, world.provider_engineer):
        with pytest.raises(PermissionDenied):
            services.assign_provider_engineer(assignment, actor=outsider, engineer=world.provider_engineer)
    assignment.refresh_from_db()
    assert assignment.engineer is None


def test_provider_admin_may_only_name_their_own_active_engineers(world):
    assignment = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    for stranger in (world.engineer, world.other_provider_engineer, world.provider_admin):
        with pytest.raises(ValidationError) as excinfo:
            services.assign_provider_engineer(assignment, actor=world.provider_admin, engineer=stranger)
        assert set(excinfo.value.error_dict) == {"engineer"}
    assignment.refresh_from_db()
    assert assignment.engineer is None


def test_an_inactive_provider_is_refused(world):
    world.other_provider.is_active = False
    world.other_provider.save()
    with pytest.raises(ValidationError) as excinfo:
        services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.other_provider)
    assert set(excinfo.value.error_dict) == {"provider"}
    with pytest.raises(ValidationError):
        services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.customer_a.organisation)
    assert assignments(world.order) == []


def test_provider_admin_rejects_an_order_back_to_dispatch(world):
    assignment = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    with pytest.raises(PermissionDenied):
        services.reject_assignment(assignment, actor=world.other_provider_admin, reason="Not ours")
    services.reject_assignment(assignment, actor=world.provider_admin, reason="No one free this week")
    assert status_of(world.order) == S.REJECTED
    assignment.refresh_from_db()
    assert (assignment.status, assignment.reason) == (A.REJECTED, "No one free this week")


# Answers


def test_accept_and_reject_by_anyone_but_the_engineer_are_refused(world):
    assignment = dispatched(world)
    for outsider in (world.far, world.dispatcher, world.provider_admin, world.customer_user_a):
        with pytest.raises(PermissionDenied):
            services.accept_assignment(assignment, actor=outsider)
        with pytest.raises(PermissionDenied):
            services.reject_assignment(assignment, actor=outsider, reason="Not me")
    assignment.refresh_from_db()
    assert assignment.status == A.OFFERED
    assert status_of(world.order) == S.DISPATCHED


def test_accepting_moves_the_order_and_a_second_answer_is_refused(world):
    assignment = dispatched(world)
    services.accept_assignment(assignment, actor=world.engineer)
    assert status_of(world.order) == S.ACCEPTED
    assert assignment.status == A.ACCEPTED and assignment.responded_at is not None
    with pytest.raises(DomainError) as excinfo:
        services.accept_assignment(assignment, actor=world.engineer)
    assert excinfo.value.code == "already_answered"
    with pytest.raises(DomainError) as excinfo:
        services.reject_assignment(assignment, actor=world.engineer, reason="Changed my mind")
    assert excinfo.value.code == "already_answered"
    assert status_of(world.order) == S.ACCEPTED
    assert actions(world.order).count("accept") == 1


def test_rejecting_needs_a_reason_and_returns_the_order_to_dispatch(world):
    assignment = dispatched(world)
    with pytest.raises(ValidationError) as excinfo:
        services.reject_assignment(assignment, actor=world.engineer, reason="  ")
    assert set(excinfo.value.error_dict) == {"reason"}
    assignment.refresh_from_db()
    assert assignment.status == A.OFFERED
    assert status_of(world.order) == S.DISPATCHED
    services.reject_assignment(assignment, actor=world.engineer, reason="Car broke down")
    assert status_of(world.order) == S.REJECTED
    assert (assignment.status, assignment.reason) == (A.REJECTED, "Car broke down")
    entry = world.order.events.latest("pk")
    assert (entry.action, entry.to_status, entry.note) == ("reject", S.REJECTED, "Car broke down")
    # A rejected order is back in the dispatcher's hands.
    services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.far)
    assert status_of(world.order) == S.DISPATCHED


# Taking back and reassigning


def test_revoking_the_lead_returns_the_order_to_new(world):
    assignment = dispatched(world)
    services.accept_assignment(assignment, actor=world.engineer)
    with pytest.raises(ValidationError):
        services.revoke_assignment(assignment, actor=world.dispatcher, reason="")
    with pytest.raises(PermissionDenied):
        services.revoke_assignment(assignment, actor=world.engineer, reason="I want out")
    assert status_of(world.order) == S.ACCEPTED
    services.revoke_assignment(assignment, actor=world.dispatcher, reason="Customer asked for someone else")
    assert status_of(world.order) == S.NEW
    assert (assignment.status, assignment.reason) == (A.REVOKED, "Customer asked for someone else")
    with pytest.raises(DomainError) as excinfo:
        services.revoke_assignment(assignment, actor=world.dispatcher, reason="again")
    assert excinfo.value.code == "not_active"
    assert status_of(world.order) == S.NEW


def test_a_lead_cannot_be_revoked_once_on_site(world):
    assignment = dispatched(world)
    services.accept_assignment(assignment, actor=world.engineer)
    lifecycle.transition(world.order, "check_in", actor=world.engineer)
    with pytest.raises(DomainError) as excinfo:
        services.revoke_assignment(assignment, actor=world.dispatcher, reason="Too slow")
    assert excinfo.value.code == "illegal_transition"
    assignment.refresh_from_db()
    assert assignment.status == A.ACCEPTED
    assert status_of(world.order) == S.ON_SITE


def test_reassign_revokes_the_lead_and_offers_the_order_to_another_engineer(world):
    first = dispatched(world)
    second = services.reassign(world.order, actor=world.dispatcher, engineer=world.far, reason="Closer to the site")
    first.refresh_from_db()
    assert first.status == A.REVOKED and first.reason == "Closer to the site"
    assert (second.engineer, second.role, second.status) == (world.far, AssignmentRole.LEAD, A.OFFERED)
    assert status_of(world.order) == S.DISPATCHED
    assert actions(world.order)[-2:] == ["revoke", "dispatch"]


def test_reassign_needs_a_reason_and_a_valid_engineer_before_anything_moves(world):
    first = dispatched(world)
    with pytest.raises(ValidationError) as excinfo:
        services.reassign(world.order, actor=world.dispatcher, engineer=world.far, reason=" ")
    assert set(excinfo.value.error_dict) == {"reason"}
    with pytest.raises(ValidationError) as excinfo:
        services.reassign(world.order, actor=world.dispatcher, engineer=world.on_leave, reason="Try")
    assert set(excinfo.value.error_dict) == {"engineer"}
    first.refresh_from_db()
    assert first.status == A.OFFERED
    assert status_of(world.order) == S.DISPATCHED
    assert len(assignments(world.order)) == 1


def test_reassign_a_rejected_order(world):
    assignment = dispatched(world)
    services.reject_assignment(assignment, actor=world.engineer, reason="Ill")
    new = services.reassign(world.order, actor=world.dispatcher, engineer=world.far, reason="Ill")
    assert new.engineer == world.far
    assert status_of(world.order) == S.DISPATCHED


# Helpers


def test_helpers_join_a_dispatched_order_and_their_answers_do_not_move_it(world):
    with pytest.raises(DomainError) as excinfo:
        services.add_helper(world.order, actor=world.dispatcher, engineer=world.far)
    assert excinfo.value.code == "not_dispatched"
    dispatched(world)
    world.order.refresh_from_db()
    helper = services.add_helper(world.order, actor=world.dispatcher, engineer=world.far)
    assert (helper.role, helper.status) == (AssignmentRole.HELPER, A.OFFERED)
    services.accept_assignment(helper, actor=world.far)
    assert helper.status == A.ACCEPTED
    assert status_of(world.order) == S.DISPATCHED
    assert actions(world.order)[-2:] == ["helper_added", "helper_accepted"]
    with pytest.raises(DomainError) as excinfo:
        services.add_helper(world.order, actor=world.dispatcher, engineer=world.far)
    assert excinfo.value.code == "already_assigned"
    with pytest.raises(DomainError) as excinfo:
        services.add_helper(world.order, actor=world.dispatcher, engineer=world.engineer)
    assert excinfo.value.code == "already_assigned"


def test_a_helper_rejects_or_is_revoked_without_moving_the_order(world):
    dispatched(world)
    world.order.refresh_from_db()
    first = services.add_helper(world.order, actor=world.dispatcher, engineer=world.far)
    second = services.add_helper(world.order, actor=world.dispatcher, engineer=world.provider_engineer)
    services.reject_assignment(first, actor=world.far, reason="Busy")
    services.revoke_assignment(second, actor=world.dispatcher, reason="Not needed")
    assert (first.status, second.status) == (A.REJECTED, A.REVOKED)
    assert status_of(world.order) == S.DISPATCHED
    assert actions(world.order)[-2:] == ["helper_rejected", "helper_revoked"]


def test_a_helper_from_a_company_that_does_not_serve_the_customer_is_refused(world):
    dispatched(world)
    world.order.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.add_helper(world.order, actor=world.dispatcher, engineer=world.other_provider_engineer)
    assert set(excinfo.value.error_dict) == {"engineer"}


def test_cancelling_ends_the_lead_and_the_helpers(world):
    lead = dispatched(world)
    services.accept_assignment(lead, actor=world.engineer)
    world.order.refresh_from_db()
    helper = services.add_helper(world.order, actor=world.dispatcher, engineer=world.far)
    lifecycle.cancel_work_order(world.order, actor=world.agent, reason="Customer fixed it")
    assert status_of(world.order) == S.CANCELLED
    assert {a.status for a in Assignment.objects.filter(pk__in=[lead.pk, helper.pk])} == {A.REVOKED}
    with pytest.raises(DomainError):
        services.accept_assignment(helper, actor=world.far)
