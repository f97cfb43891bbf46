"""The transition table: every verb from every state is either the documented move or a clear
refusal that changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import TRANSITIONS, HoldReason, Transition, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from fieldservice.workorders.services import lifecycle
from tests import factories

S = WorkOrderStatus
EXPECTED = {
    # verb: {from: to}; every pair not listed must be refused.
    Transition.DISPATCH: {S.NEW: S.DISPATCHED, S.REJECTED: S.DISPATCHED},
    Transition.ACCEPT: {S.DISPATCHED: S.ACCEPTED},
    Transition.REJECT: {S.DISPATCHED: S.REJECTED},
    Transition.REVOKE: {S.DISPATCHED: S.NEW, S.ACCEPTED: S.NEW, S.TRAVELLING: S.NEW},
    Transition.START_TRAVEL: {S.ACCEPTED: S.TRAVELLING},
    Transition.CHECK_IN: {S.ACCEPTED: S.ON_SITE, S.TRAVELLING: S.ON_SITE},
    Transition.COMPLETE: {S.ON_SITE: S.COMPLETED},
    Transition.CLOSE: {S.COMPLETED: S.CLOSED},
    Transition.HOLD: {s: S.ON_HOLD for s in (S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE)},
    Transition.CANCEL: {s: S.CANCELLED for s in (S.NEW, S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_HOLD, S.REJECTED)},
}


def test_the_table_is_the_documented_one():
    for verb, (sources, target) in TRANSITIONS.items():
        if verb == Transition.RESUME:
            assert sources == {S.ON_HOLD} and target is None
            continue
        assert {source: target for source in sources} == EXPECTED[verb], verb


def set_status(order: WorkOrder, status: str, before_hold: str = "") -> WorkOrder:
    # Test set-up only: put the order in a state without walking the whole path.
    WorkOrder.objects.filter(pk=order.pk).update(status=status, status_before_hold=before_hold)
    order.refresh_from_db()
    return order


CASES = [(verb, status) for verb in Transition if verb != Transition.RESUME for status in S]


@pytest.mark.parametrize(("verb", "status"), CASES, ids=[f"{v}-from-{s}" for v, s in CASES])
def test_every_verb_from_every_state(db, verb, status):
    admin = factories.system_user()
    order = set_status(factories.work_order(actor=admin), status)
    log_before = WorkOrderEvent.objects.filter(work_order=order).count()
    target = EXPECTED[verb].get(status)
    if target is None:
        with pytest.raises(DomainError) as excinfo:
            lifecycle.transition(order, verb, actor=admin)
        assert excinfo.value.code == "illegal_transition"
        order.refresh_from_db()
        assert order.status == status
        assert WorkOrderEvent.objects.filter(work_order=order).count() == log_before
    else:
        lifecycle.transition(order, verb, actor=admin, note="because")
        assert order.status == target
        entry = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
        assert (entry.action, entry.from_status, entry.to_status, entry.actor, entry.note) == (
            verb,
            status,
            target,
            admin,
            "because",
        )


@pytest.mark.parametrize("status", [S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE])
def test_resume_returns_to_the_state_before_the_hold(personas, status):
    order = set_status(factories.work_order(actor=personas.admin), status)
    lifecycle.put_on_hold(order, actor=personas.dispatcher, hold_reason=HoldReason.WAITING_PARTS)
    assert (order.status, order.hold_reason, order.status_before_hold) == (S.ON_HOLD, "waiting_parts", status)
    lifecycle.resume_work_order(order, actor=personas.dispatcher)
    assert (order.status, order.hold_reason, order.status_before_hold) == (status, "", "")


@pytest.mark.parametrize("status", [s for s in S if s != S.ON_HOLD])
def test_resume_is_refused_unless_on_hold(personas, status):
    order = set_status(factories.work_order(actor=personas.admin), status)
    with pytest.raises(DomainError):
        lifecycle.resume_work_order(order, actor=personas.dispatcher)


def test_timestamps_follow_the_visit(personas):
    order = set_status(factories.work_order(actor=personas.admin), S.TRAVELLING)
    lifecycle.transition(order, Transition.CHECK_IN, actor=personas.admin, latitude="29.9", longitude="121.8")
    assert order.checked_in_at is not None and order.completed_at is None
    entry = order.events.latest("pk")
    assert (str(entry.latitude), str(entry.longitude)) == ("29.900000", "121.800000")
    lifecycle.transition(order, Transition.COMPLETE, actor=personas.admin)
    assert order.completed_at is not None and order.checked_out_at == order.completed_at
    lifecycle.close_work_order(order, actor=personas.agent)
    assert order.closed_at is not None and order.status == S.CLOSED


def test_a_hold_for_another_reason_needs_a_note(personas):
    order = set_status(factories.work_order(actor=personas.admin), S.ACCEPTED)
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.put_on_hold(order, actor=personas.dispatcher, hold_reason=HoldReason.OTHER)
    assert set(excinfo.value.error_dict) == {"note"}
    with pytest.raises(ValidationError) as excinfo:
        lifecycle.put_on_hold(order, actor=personas.dispatcher, hold_reason="lunch")
    assert set(excinfo.value.error_dict) == {"hold_reason"}
    order.refresh_from_db()
    assert order.status == S.ACCEPTED


def test_only_desk_staff_or_the_assigned_engineer_hold_an_order(personas):
    order = factories.work_order(actor=personas.admin)
    engineer = factories.engineer(personas.own)
    dispatch_to_engineer(order, actor=personas.dispatcher, engineer=engineer)
    for outsider in (personas.engineer, personas.customer_user_a, personas.provider_admin):
        with pytest.raises(PermissionDenied):
            lifecycle.put_on_hold(order, actor=outsider, hold_reason=HoldReason.WAITING_CUSTOMER)
    lifecycle.put_on_hold(order, actor=engineer, hold_reason=HoldReason.WAITING_CUSTOMER)
    assert order.status == S.ON_HOLD


def test_cancelling_ends_every_active_assignment(personas):
    order = factories.work_order(actor=personas.admin)
    engineer = factories.engineer(personas.own)
    assignment = dispatch_to_engineer(order, actor=personas.dispatcher, engineer=engineer)
    accept_assignment(assignment, actor=engineer)
    with pytest.raises(ValidationError):
        lifecycle.cancel_work_order(order, actor=personas.agent, reason=" ")
    lifecycle.cancel_work_order(order, actor=personas.agent, reason="Customer fixed it himself")
    assert order.status == S.CANCELLED
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.REVOKED


def test_closing_is_for_desk_staff(personas):
    order = set_status(factories.work_order(actor=personas.admin), S.COMPLETED)
    for role in ("engineer", "customer_user_a", "director"):
        with pytest.raises(PermissionDenied):
            lifecycle.close_work_order(order, actor=getattr(personas, role))
    order.refresh_from_db()
    assert order.status == S.COMPLETED


def test_the_service_log_is_append_only(personas):
    order = factories.work_order(actor=personas.admin)
    entry = order.events.get()
    assert (entry.action, entry.to_status) == ("created", S.NEW)
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        order.events.all().delete()
    with pytest.raises(TypeError):
        order.events.update(note="x")
