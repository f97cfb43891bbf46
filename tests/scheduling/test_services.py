"""Scheduling and moving visits, absences, default durations, and visits following their order."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core import outbox
from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import reject_assignment, revoke_assignment
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field import services as field_services
from fieldservice.scheduling import services
from fieldservice.scheduling.models import Absence, DurationDefault, Visit
from fieldservice.scheduling.selectors import visits_overlapping
from fieldservice.workorders.services.lifecycle import cancel_work_order
from tests.scheduling.conftest import at, order_for


def plan(world, order=None, start="09:00", minutes=60, **kwargs):
    return services.schedule_visit(
        order or world.order,
        actor=kwargs.pop("actor", world.dispatcher),
        planned_start=at(world.monday, start),
        duration_minutes=minutes,
        **kwargs,
    )


def state(visit) -> tuple:
    v = Visit.objects.get(pk=visit.pk)
    return (v.engineer_id, v.planned_start, v.duration_minutes, v.status, v.version)


def leads(order) -> list:
    return list(
        Assignment.objects.filter(work_order=order, role=AssignmentRole.LEAD)
        .order_by("pk")
        .values_list("engineer_id", "status")
    )


# schedule_visit


def test_dispatcher_plans_a_visit_for_the_lead(world):
    visit = plan(world, window_start=at(world.monday, "08:30"), window_end=at(world.monday, "11:00"), is_pinned=True)
    assert (visit.engineer, visit.duration_minutes, visit.version, visit.is_pinned) == (world.engineer, 60, 1, True)
    assert world.order.events.filter(action="visit_scheduled").count() == 1
    again = plan(world, start="10:00", minutes=90)
    assert (again.pk, again.version, again.duration_minutes) == (visit.pk, 2, 90)
    assert Visit.objects.filter(work_order=world.order).count() == 1


def test_the_lead_engineer_plans_his_own_visit(world):
    visit = plan(world, actor=world.engineer)
    assert visit.engineer == world.engineer


@pytest.mark.parametrize("who", ["other_engineer", "provider_engineer", "provider_admin", "customer_user_a", "agent"])
def test_others_may_not_plan_and_nothing_changes(world, who):
    visit = plan(world)
    before = state(visit)
    actor = world.second if who == "other_engineer" else getattr(world, who)
    with pytest.raises(PermissionDenied):
        plan(world, actor=actor, start="14:00")
    assert state(visit) == before


def test_duration_defaults_to_the_configured_minutes(world):
    order = order_for(world, engineer=world.engineer, service_type="maintenance")
    assert services.default_duration_minutes(order) == services.FALLBACK_DURATION_MINUTES
    services.set_duration_default(actor=world.dispatcher, service_type="maintenance", minutes=75)
    assert services.default_duration_minutes(order) == 75
    services.set_duration_default(
        actor=world.dispatcher, service_type="maintenance", product_model=world.model, minutes=150
    )
    assert services.default_duration_minutes(order) == 150
    visit = services.schedule_visit(order, actor=world.dispatcher, planned_start=at(world.monday, "13:00"))
    assert visit.duration_minutes == 150


def test_blocking_conflicts_and_bad_input_are_refused_by_field(world):
    with pytest.raises(ValidationError) as error:
        plan(world, start="07:00")
    assert error.value.error_dict["planned_start"][0].code == "outside_shift"
    with pytest.raises(ValidationError) as error:
        plan(world, minutes=0)
    assert "duration_minutes" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        plan(world, window_start=at(world.monday, "10:00"))
    assert "window_end" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        plan(world, window_start=at(world.monday, "10:00"), window_end=at(world.monday, "09:00"))
    assert "window_end" in error.value.error_dict
    assert not Visit.objects.exists()


def test_a_stale_form_is_refused(world):
    visit = plan(world)
    plan(world, start="10:00", version=1)
    with pytest.raises(DomainError) as error:
        plan(world, start="14:00", version=1)
    assert error.value.code == "stale"
    assert Visit.objects.get(pk=visit.pk).planned_start == at(world.monday, "10:00")


def test_a_finished_order_cannot_be_planned(world):
    cancel_work_order(world.order, actor=world.dispatcher, reason="duplicate")
    with pytest.raises(DomainError):
        plan(world)
    assert not Visit.objects.exists()


# move_visit


def test_move_in_time_keeps_the_lead(world):
    visit = plan(world)
    moved = services.move_visit(
        visit, actor=world.dispatcher, engineer=world.engineer, planned_start=at(world.monday, "14:00"), version=1
    )
    assert (moved.planned_start, moved.version) == (at(world.monday, "14:00"), 2)
    assert leads(world.order) == [(world.engineer.pk, AssignmentStatus.ACCEPTED)]


def test_move_to_another_engineer_reassigns_the_order(world):
    visit = plan(world)
    moved = services.move_visit(
        visit, actor=world.dispatcher, engineer=world.second, planned_start=at(world.monday, "13:00"), version=1
    )
    assert moved.engineer == world.second
    assert leads(world.order) == [
        (world.engineer.pk, AssignmentStatus.REVOKED),
        (world.second.pk, AssignmentStatus.OFFERED),
    ]


def test_move_to_the_lead_after_the_visit_lost_its_engineer_keeps_his_acceptance(world):
    visit = plan(world)
    Visit.objects.filter(pk=visit.pk).update(engineer=None)
    services.move_visit(
        visit, actor=world.dispatcher, engineer=world.engineer, planned_start=at(world.monday, "13:00"), version=1
    )
    assert leads(world.order) == [(world.engineer.pk, AssignmentStatus.ACCEPTED)]


def test_a_stale_move_writes_nothing(world):
    visit = plan(world)
    plan(world, start="10:00")  # version 2 now
    before, before_leads = state(visit), leads(world.order)
    with pytest.raises(DomainError) as error:
        services.move_visit(
            visit, actor=world.dispatcher, engineer=world.second, planned_start=at(world.monday, "14:00"), version=1
        )
    assert error.value.code == "stale"
    assert state(visit) == before and leads(world.order) == before_leads


def test_a_conflicting_move_writes_nothing(world):
    visit = plan(world)
    before, before_leads = state(visit), leads(world.order)
    with pytest.raises(ValidationError) as error:
        services.move_visit(
            visit, actor=world.dispatcher, engineer=world.unskilled, planned_start=at(world.monday, "14:00"), version=1
        )
    assert "engineer" in error.value.error_dict
    assert state(visit) == before and leads(world.order) == before_leads


@pytest.mark.parametrize("who", ["engineer", "provider_admin", "customer_user_a", "agent"])
def test_only_schedulers_move(world, who):
    visit = plan(world)
    before = state(visit)
    with pytest.raises(PermissionDenied):
        services.move_visit(
            visit,
            actor=getattr(world, who),
            engineer=world.engineer,
            planned_start=at(world.monday, "14:00"),
            version=1,
        )
    assert state(visit) == before


# Visits follow their order (the outbox consumer)


def test_visit_follows_reject_and_new_dispatch(world):
    order = order_for(world, engineer=world.second)
    visit = plan(world, order=order)
    assignment = Assignment.objects.get(work_order=order, engineer=world.second)
    reject_assignment(assignment, actor=world.second, reason="too far")
    outbox.drain()
    assert Visit.objects.get(pk=visit.pk).engineer is None
    version = Visit.objects.get(pk=visit.pk).version
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer

    dispatch_to_engineer(order, actor=world.dispatcher, engineer=world.engineer)
    outbox.drain()
    synced = Visit.objects.get(pk=visit.pk)
    assert (synced.engineer, synced.version, synced.status) == (world.engineer, version + 1, "planned")
    # Running again changes nothing.
    assert services.sync_visit_with_order(order.pk).version == version + 1


def test_visit_loses_its_engineer_on_revoke(world):
    visit = plan(world)
    revoke_assignment(Assignment.objects.get(work_order=world.order), actor=world.dispatcher, reason="sick")
    outbox.drain()
    assert Visit.objects.get(pk=visit.pk).engineer is None


def test_visit_is_cancelled_with_its_order(world):
    visit = plan(world)
    cancel_work_order(world.order, actor=world.dispatcher, reason="customer fixed it")
    outbox.drain()
    assert Visit.objects.get(pk=visit.pk).status == "cancelled"


def test_visit_is_done_when_the_order_is_completed(world):
    visit = plan(world)
    field_services.check_in(world.order, actor=world.engineer, latitude="29.868", longitude="121.544", accuracy=10)
    world.order.refresh_from_db()
    from fieldservice.workorders.services.lifecycle import transition

    transition(world.order, "complete", actor=world.engineer)
    outbox.drain()
    assert Visit.objects.get(pk=visit.pk).status == "done"
    # A new visit may be planned again later only for open orders.
    with pytest.raises(DomainError):
        plan(world)


# Absences


def test_absence_is_validated(world):
    cases = [
        ({"engineer": world.agent}, "engineer"),
        ({"ends_at": at(world.monday, "08:00")}, "ends_at"),
        ({"ends_at": at(world.monday, "09:00")}, "ends_at"),
        ({"kind": "holiday"}, "kind"),
    ]
    for override, field in cases:
        data = {
            "engineer": world.engineer,
            "kind": "leave",
            "starts_at": at(world.monday, "09:00"),
            "ends_at": at(world.monday, "12:00"),
        }
        data.update(override)
        with pytest.raises(ValidationError) as error:
            services.create_absence(actor=world.dispatcher, **data)
        assert field in error.value.error_dict
    assert not Absence.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "agent", "provider_admin", "customer_user_a"])
def test_only_schedulers_manage_absences(world, who):
    with pytest.raises(PermissionDenied):
        services.create_absence(
            actor=getattr(world, who),
            engineer=world.engineer,
            kind="leave",
            starts_at=at(world.monday, "09:00"),
            ends_at=at(world.monday, "12:00"),
        )
    assert not Absence.objects.exists()


def test_absence_over_planned_visits_is_saved_and_they_are_listed(world):
    visit = plan(world)
    absence = services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="sick",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "12:00"),
    )
    assert [v.pk for v in visits_overlapping(world.engineer, absence.starts_at, absence.ends_at)] == [visit.pk]
    assert Visit.objects.get(pk=visit.pk).status == "planned"
    services.delete_absence(absence, actor=world.dispatcher)
    assert not Absence.objects.exists()


def test_duration_defaults_are_validated_and_replaced(world):
    with pytest.raises(ValidationError):
        services.set_duration_default(actor=world.dispatcher, service_type="repair", minutes=0)
    with pytest.raises(PermissionDenied):
        services.set_duration_default(actor=world.engineer, service_type="repair", minutes=30)
    services.set_duration_default(actor=world.dispatcher, service_type="repair", minutes=100)
    services.set_duration_default(actor=world.dispatcher, service_type="repair", minutes=110)
    assert list(DurationDefault.objects.values_list("minutes", flat=True)) == [110]
