"""Applying a day plan never leaves an engineer with two visits at once (issue 10, item 2): an order the plan
leaves out keeps its visit only where that visit does not clash with the new day, else its visit is taken
off the calendar, and the page says which; apply runs the board's conflict check on the result and
refuses the whole plan on any overlap."""

import datetime as dt

import pytest

from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.planning import services
from fieldservice.planning.choices import RunStatus
from fieldservice.planning.inputs import day_start
from fieldservice.planning.models import PlanningRun
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Visit
from fieldservice.scheduling.selectors import slot_conflicts
from tests.planning.test_services import run_now


def overlaps(engineer, day) -> list[tuple[str, str]]:
    """Every pair of the engineer's planned visits that day that overlap."""
    start = day_start(day)
    visits = list(
        Visit.objects.filter(
            engineer=engineer,
            status=VisitStatus.PLANNED,
            planned_start__gte=start,
            planned_start__lt=start + dt.timedelta(days=1),
        ).select_related("work_order")
    )
    return [
        (a.work_order.number, b.work_order.number)
        for i, a in enumerate(visits)
        for b in visits[i + 1 :]
        if a.planned_start < b.planned_end and b.planned_start < a.planned_end
    ]


def board_overlaps(visit: Visit) -> list[str]:
    """What the board's conflict check says about the visit where it is."""
    return [
        c.message
        for c in slot_conflicts(
            visit.work_order,
            engineer=visit.engineer,
            start=visit.planned_start,
            duration_minutes=visit.duration_minutes,
            ignore_visit=visit,
        )
        if c.code == "overlap"
    ]


@pytest.fixture
def one_engineer(team_world):
    w = team_world
    w.plain.engineer_profile.delete()  # only the skilled engineer works: every planned order goes to him
    return w


def test_an_unplanned_order_whose_visit_clashes_with_the_plan_is_unscheduled_and_nothing_overlaps(
    one_engineer, django_capture_on_commit_callbacks, client_for
):
    w = one_engineer
    # An order the plan cannot place (its site has no coordinates) with a visit 08:30-10:30 ...
    stuck = w.order(latitude=None, longitude=None)
    dispatch_to_engineer(stuck, actor=w.dispatcher, engineer=w.skilled)
    old = Visit.objects.create(
        work_order=stuck,
        engineer=w.skilled,
        planned_start=day_start(w.day) + dt.timedelta(hours=8, minutes=30),
        duration_minutes=120,
    )
    # ... and a new order near his home, which the plan puts first thing in the morning.
    fresh = w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    [move] = run.proposal["moves"]
    assert move["order_id"] == fresh.pk
    move_end = move["to_start"] + move["duration_minutes"] * 60
    assert move["to_start"] < 10.5 * 3600 and move_end > 8.5 * 3600, "precondition: the plan uses 08:30-10:30"
    [left_out] = run.proposal["unplannable"]
    assert left_out["order_id"] == stuck.pk
    assert left_out["visit"] == {
        "action": "unscheduled",
        "engineer": str(w.skilled),
        "start": 8 * 3600 + 1800,
        "end": 10 * 3600 + 1800,
        "clashes": [fresh.number],
    }
    html = client_for(w.dispatcher).get(f"/planning/runs/{run.pk}/").content.decode()
    assert "Applying takes its visit" in html and fresh.number in html

    services.apply_run(run, actor=w.dispatcher)
    old.refresh_from_db()
    assert old.status == VisitStatus.CANCELLED and old.version == 2
    assert overlaps(w.skilled, w.day) == []
    new = Visit.objects.get(work_order=fresh, status=VisitStatus.PLANNED)
    assert board_overlaps(new) == []
    assert stuck.events.filter(action="visit_unscheduled").exists()


def test_an_unplanned_order_whose_visit_does_not_clash_keeps_it(one_engineer, django_capture_on_commit_callbacks):
    w = one_engineer
    stuck = w.order(latitude=None, longitude=None)
    dispatch_to_engineer(stuck, actor=w.dispatcher, engineer=w.skilled)
    late = Visit.objects.create(
        work_order=stuck,
        engineer=w.skilled,
        planned_start=day_start(w.day) + dt.timedelta(hours=15, minutes=30),
        duration_minutes=60,
    )
    w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    [left_out] = run.proposal["unplannable"]
    assert left_out["visit"]["action"] == "kept" and left_out["visit"]["clashes"] == []
    services.apply_run(run, actor=w.dispatcher)
    late.refresh_from_db()
    assert late.status == VisitStatus.PLANNED and late.version == 1
    assert overlaps(w.skilled, w.day) == []


def test_apply_refuses_a_plan_whose_result_overlaps_and_writes_nothing(
    one_engineer, django_capture_on_commit_callbacks
):
    w = one_engineer
    held = w.order()
    dispatch_to_engineer(held, actor=w.dispatcher, engineer=w.skilled)
    pinned = Visit.objects.create(
        work_order=held,
        engineer=w.skilled,
        planned_start=day_start(w.day) + dt.timedelta(hours=8),
        duration_minutes=120,
        is_pinned=True,
    )
    fresh = w.order()
    run = run_now(django_capture_on_commit_callbacks, actor=w.dispatcher, day=w.day, team=w.team)
    # Whatever made the proposal (a bug, an edited row), the result is checked, not trusted.
    proposal = run.proposal
    proposal["moves"][0]["to_start"] = 9 * 3600
    PlanningRun.objects.filter(pk=run.pk).update(proposal=proposal)
    with pytest.raises(DomainError) as error:
        services.apply_run(run, actor=w.dispatcher)
    assert error.value.code == "overlap" and held.number in error.value.message
    assert fresh.number in error.value.message
    assert not Visit.objects.filter(work_order=fresh).exists()
    pinned.refresh_from_db()
    assert pinned.version == 1
    fresh.refresh_from_db()
    assert not fresh.assignments.exists()
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
