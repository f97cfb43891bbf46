"""Optimisation runs end to end through the services: start (the immediate task backend runs the worker's
part when the start commits), the proposal, cancel, discard, and applying it (or refusing a stale one)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.accounts.services import create_team
from fieldservice.core.errors import DomainError
from fieldservice.core.models import OutboxMessage
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.planning import services
from fieldservice.planning.choices import RunStatus
from fieldservice.planning.inputs import day_start
from fieldservice.planning.models import PlanningRun
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Visit
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder


def run_now(django_capture_on_commit_callbacks, **kwargs) -> PlanningRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_run(**{"time_budget_seconds": 1, **kwargs})
    run.refresh_from_db()
    return run


def lead_of(order):
    return Assignment.objects.filter(
        work_order=order, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
    ).first()


def test_a_team_run_plans_the_open_orders_and_apply_writes_visits_and_assignments(
    team_world, django_capture_on_commit_callbacks
):
    w = team_world
    orders = [w.order(latitude="29.88"), w.order(latitude="29.89", longitude="121.58"), w.order(needs_skill=True)]
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    assert run.status == RunStatus.DONE and run.progress == 100
    proposal = run.proposal
    assert proposal["served"] == 3 and proposal["unplannable"] == []
    assert {m["order_id"] for m in proposal["moves"]} == {o.pk for o in orders}
    assert set(run.snapshot["orders"]) == {str(o.pk) for o in orders}
    assert Visit.objects.count() == 0  # nothing written before apply

    services.apply_run(run, actor=w.dispatcher)
    run.refresh_from_db()
    assert run.status == RunStatus.APPLIED and run.applied_by == w.dispatcher
    start = day_start(w.day)
    for move in proposal["moves"]:
        order = WorkOrder.objects.get(pk=move["order_id"])
        visit = Visit.objects.get(work_order=order, status=VisitStatus.PLANNED)
        engineer = w.skilled if move["to_engineer_key"] == f"e{w.skilled.pk}" else w.plain
        assert visit.engineer == engineer
        assert visit.planned_start == start + dt.timedelta(seconds=move["to_start"])
        assert order.status == WorkOrderStatus.DISPATCHED and lead_of(order).engineer == engineer
    changed = OutboxMessage.objects.filter(topic="visit.changed").values_list("payload__work_order", flat=True)
    assert sorted(changed) == sorted(o.pk for o in orders)
    # Skills are never violated: the hydraulics order went to the only engineer who has the skill.
    assert lead_of(orders[2]).engineer == w.skilled


def test_the_skill_is_never_violated_even_when_the_skilled_engineer_is_far(
    team_world, django_capture_on_commit_callbacks
):
    w = team_world
    skilled_jobs = [w.order(needs_skill=True, latitude="29.90", longitude="121.60") for _ in range(3)]
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    for engineer in run.proposal["engineers"]:
        numbers = {stop.get("order_id") for stop in engineer["proposed"]}
        if engineer["id"] != w.skilled.pk:
            assert not numbers & {o.pk for o in skilled_jobs}
    assert run.proposal["served"] == 3


def test_an_empty_team_is_a_clear_error_naming_the_team(team_world):
    w = team_world
    empty = create_team(actor=w.admin, name="Nobody", organisation=w.own)
    with pytest.raises(ValidationError) as error:
        services.start_run(actor=w.dispatcher, day=w.day, team=empty)
    assert "team" in error.value.message_dict
    assert PlanningRun.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_budget_seconds": 0}, "time_budget_seconds"),
        ({"time_budget_seconds": 121}, "time_budget_seconds"),
        ({"area": "same"}, "team"),  # both a team and an area
        ({"team": None}, "team"),  # neither
        ({"team": 999999}, "team"),
    ],
)
def test_bad_input_is_refused_naming_the_field(team_world, kwargs, field):
    w = team_world
    arguments = {"actor": w.dispatcher, "day": w.day, "team": w.team, **kwargs}
    if arguments.get("area") == "same":
        arguments["area"] = w.area
    with pytest.raises(ValidationError) as error:
        services.start_run(**arguments)
    assert field in error.value.message_dict
    assert PlanningRun.objects.count() == 0


def test_only_our_dispatchers_may_start_a_run(team_world):
    w = team_world
    for person in (w.engineer, w.agent, w.provider_admin, w.customer_user_a):
        with pytest.raises(PermissionDenied):
            services.start_run(actor=person, day=w.day, team=w.team)
    assert PlanningRun.objects.count() == 0


def test_a_site_without_coordinates_is_unplannable_with_the_reason_and_the_rest_is_planned(
    team_world, django_capture_on_commit_callbacks
):
    w = team_world
    good = [w.order(), w.order(latitude="29.86")]
    nowhere = w.order(latitude=None, longitude=None)
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, area=w.area)
    assert run.status == RunStatus.DONE
    assert run.proposal["unplannable"] == [
        {
            "order_id": nowhere.pk,
            "number": nowhere.number,
            "code": "no_location",
            "reason": "The site has no coordinates.",
            "visit": None,
        }
    ]
    assert {m["order_id"] for m in run.proposal["moves"]} == {o.pk for o in good}


def test_a_pinned_visit_is_kept_and_never_touched_by_apply(team_world, django_capture_on_commit_callbacks):
    w = team_world
    pinned_order = w.order()
    dispatch_to_engineer(pinned_order, actor=w.dispatcher, engineer=w.plain)
    start = day_start(w.day) + dt.timedelta(hours=10)
    pinned = Visit.objects.create(
        work_order=pinned_order, engineer=w.plain, planned_start=start, duration_minutes=90, is_pinned=True
    )
    others = [w.order(), w.order(latitude="29.86")]
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    plain_stops = next(e for e in run.proposal["engineers"] if e["id"] == w.plain.pk)["proposed"]
    kept = [s for s in plain_stops if s.get("order_id") == pinned_order.pk]
    assert kept and kept[0]["start"] == 10 * 3600 and kept[0]["fixed"]
    assert pinned_order.pk not in {m["order_id"] for m in run.proposal["moves"]}

    services.apply_run(run, actor=w.dispatcher)
    pinned.refresh_from_db()
    assert (pinned.engineer, pinned.planned_start, pinned.version) == (w.plain, start, 1)
    assert all(Visit.objects.filter(work_order=o, status=VisitStatus.PLANNED).exists() for o in others)


def test_applying_after_someone_changed_an_order_is_refused_and_nothing_is_written(
    team_world, django_capture_on_commit_callbacks
):
    w = team_world
    first, second = w.order(), w.order(latitude="29.86")
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    dispatch_to_engineer(second, actor=w.dispatcher, engineer=w.plain)  # someone else acts meanwhile
    with pytest.raises(DomainError) as error:
        services.apply_run(run, actor=w.dispatcher)
    assert error.value.code == "stale" and second.number in error.value.message
    assert first.number not in error.value.message
    assert Visit.objects.count() == 0
    first.refresh_from_db()
    assert first.status == WorkOrderStatus.NEW and lead_of(first) is None
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


def test_a_visit_moved_after_the_run_makes_apply_stale(team_world, django_capture_on_commit_callbacks):
    w = team_world
    order = w.order()
    visit = Visit.objects.create(
        work_order=order, planned_start=day_start(w.day) + dt.timedelta(hours=15), duration_minutes=60
    )
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    Visit.objects.filter(pk=visit.pk).update(version=2)
    with pytest.raises(DomainError):
        services.apply_run(run, actor=w.dispatcher)
    visit.refresh_from_db()
    assert visit.engineer is None and visit.version == 2


def test_cancel_stops_a_running_search(team_world, monkeypatch):
    w = team_world
    for _ in range(3):
        w.order()
    monkeypatch.setattr(services, "enqueue", lambda run_id: None)
    run = services.start_run(actor=w.dispatcher, day=w.day, team=w.team, time_budget_seconds=60)
    assert run.status == RunStatus.QUEUED
    seen = []
    real_solve = services.solve

    def solve_and_cancel(problem, **kwargs):
        def progress(report):
            seen.append(report.elapsed)
            if len(seen) == 1:
                services.cancel_run(run, actor=w.dispatcher)
            kwargs_progress(report)

        kwargs_progress = kwargs.pop("progress")
        return real_solve(problem, progress=progress, **kwargs)

    monkeypatch.setattr(services, "solve", solve_and_cancel)
    assert services.execute_run(run.pk) == "cancelled"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.proposal == {}
    assert seen[-1] < 5  # far less than the 60 s budget


def test_cancelling_a_queued_run_means_it_never_runs(team_world, monkeypatch):
    w = team_world
    monkeypatch.setattr(services, "enqueue", lambda run_id: None)
    run = services.start_run(actor=w.dispatcher, day=w.day, team=w.team)
    services.cancel_run(run, actor=w.dispatcher)
    assert services.execute_run(run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    with pytest.raises(DomainError):
        services.cancel_run(run, actor=w.dispatcher)


def test_discard_and_then_apply_is_refused(team_world, django_capture_on_commit_callbacks):
    w = team_world
    w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    services.discard_run(run, actor=w.dispatcher)
    with pytest.raises(DomainError):
        services.apply_run(run, actor=w.dispatcher)
    assert Visit.objects.count() == 0


def test_an_order_planned_on_another_day_is_left_out(team_world, django_capture_on_commit_callbacks):
    w = team_world
    today = w.order()
    other = w.order()
    Visit.objects.create(
        work_order=other, planned_start=day_start(w.day) + dt.timedelta(days=1, hours=9), duration_minutes=60
    )
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    assert set(run.snapshot["orders"]) == {str(today.pk)}


def test_a_zigzag_day_is_straightened_and_the_travel_saved_is_reported(team_world, django_capture_on_commit_callbacks):
    w = team_world
    # Four sites on a line east of the engineer's home, visited far, near, far, near.
    longitudes = ["121.70", "121.56", "121.68", "121.58"]
    orders = [w.order(latitude="29.87", longitude=lng) for lng in longitudes]
    start = day_start(w.day)
    for i, order in enumerate(orders):
        Visit.objects.create(
            work_order=order,
            engineer=w.skilled,
            planned_start=start + dt.timedelta(hours=8, minutes=30 + 90 * i),
            duration_minutes=60,
        )
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    proposal = run.proposal
    assert proposal["served"] == 4
    assert proposal["travel_before"] > 0
    assert proposal["travel_after"] < 0.8 * proposal["travel_before"]


def test_a_team_without_home_bases_fails_with_the_reason(team_world, django_capture_on_commit_callbacks):
    from fieldservice.accounts.models import EngineerProfile

    w = team_world
    w.order()
    EngineerProfile.objects.filter(team=w.team).update(home_latitude=None, home_longitude=None)
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    assert run.status == RunStatus.FAILED
    assert run.error == "No engineer of the team has a home base with coordinates."
    assert run.proposal == {} and Visit.objects.count() == 0


def test_an_absence_takes_the_engineer_out_of_that_time(team_world, django_capture_on_commit_callbacks):
    from fieldservice.scheduling.models import Absence

    w = team_world
    start = day_start(w.day)
    # The plain engineer is away all day; the skilled one from 08:00 to 15:00: everything goes after 15:00.
    Absence.objects.create(engineer=w.plain, starts_at=start, ends_at=start + dt.timedelta(days=1))
    Absence.objects.create(
        engineer=w.skilled, starts_at=start + dt.timedelta(hours=8), ends_at=start + dt.timedelta(hours=15)
    )
    w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    [move] = run.proposal["moves"]
    assert move["to_engineer_key"] == f"e{w.skilled.pk}" and move["to_start"] >= 15 * 3600
    assert any(s["code"] == "off" for s in run.proposal["skipped_engineers"])


def test_another_visit_of_the_engineer_that_day_blocks_its_time_and_is_left_alone(
    team_world, django_capture_on_commit_callbacks
):
    from fieldservice.workorders.services.lifecycle import transition

    w = team_world
    w.plain.engineer_profile.delete()  # only the skilled engineer works
    held = w.order()
    dispatch_to_engineer(held, actor=w.dispatcher, engineer=w.skilled)
    start = day_start(w.day)
    busy = Visit.objects.create(
        work_order=held, engineer=w.skilled, planned_start=start + dt.timedelta(hours=8), duration_minutes=6 * 60
    )
    transition(held, "hold", actor=w.dispatcher, note="waiting for parts", payload={"hold_reason": "parts"})
    held.refresh_from_db()
    assert held.status == WorkOrderStatus.ON_HOLD
    fresh = w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    # 08:00-14:00 is taken by the held order's visit: the new order can only start after it.
    [move] = run.proposal["moves"]
    assert move["order_id"] == fresh.pk and move["to_start"] >= 14 * 3600
    kept = [s for s in run.proposal["engineers"][0]["proposed"] if s.get("order_id") == held.pk]
    assert kept == [
        {"kind": "job", "order_id": held.pk, "number": held.number, "start": 8 * 3600, "end": 14 * 3600}
        | {"travel": 0, "fixed": True}
    ]
    services.apply_run(run, actor=w.dispatcher)
    busy.refresh_from_db()
    assert busy.version == 1 and busy.planned_start == start + dt.timedelta(hours=8)


def test_a_visit_planned_since_for_one_of_the_engineers_makes_apply_stale(
    team_world, django_capture_on_commit_callbacks
):
    w = team_world
    w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    # A new order, planned by hand for that day after the run read the plan.
    other = w.order(latitude="30.50")
    Visit.objects.create(
        work_order=other, engineer=w.plain, planned_start=day_start(w.day) + dt.timedelta(hours=9), duration_minutes=60
    )
    with pytest.raises(DomainError) as error:
        services.apply_run(run, actor=w.dispatcher)
    assert other.number in error.value.message
    assert Visit.objects.count() == 1
