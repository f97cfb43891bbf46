"""The day-plan optimiser on small worlds whose best plan is known by hand.

Places are points on a line (or a few hand-made matrices): travel takes one minute per unit.
Every plan is also walked again by `check_plan`, which must reject a tampered plan.
"""

import dataclasses
import time

import pytest

from fieldservice.core.errors import DomainError
from fieldservice.planning.optimiser import (
    Break,
    Depot,
    ExplicitMatrix,
    GeoPoint,
    GreatCircle,
    Job,
    Objective,
    Pin,
    PlanCheckError,
    Problem,
    Resource,
    TimeWindow,
    VisitKind,
    check_plan,
    solve,
)

H = 3600
M = 60
DAY = TimeWindow(8 * H, 17 * H)


def line(**places):
    """Travel on a line: |x - y| minutes, and 1 km per minute."""
    keys = list(places)
    durations = [[abs(places[a] - places[b]) * M for b in keys] for a in keys]
    distances = [[abs(places[a] - places[b]) * 1000 for b in keys] for a in keys]
    return ExplicitMatrix(keys, durations, distances)


def engineer(name, home, **fields):
    fields.setdefault("shift", DAY)
    return Resource(id=name, start=home, **fields)


def plan_for(problem, travel, **options):
    options.setdefault("time_limit", 2)
    options.setdefault("max_iterations", 300)
    plan = solve(problem, seed=0, travel=travel, **options)
    check_plan(problem, plan, travel)
    return plan


def reasons(plan):
    return {item.job_id: item.code for item in plan.unplanned}


def test_two_engineers_split_the_line_as_by_hand():
    travel = line(west=0, east=100, a=5, b=10, c=90, d=95)
    jobs = tuple(Job(id=k, location=k, duration=30 * M) for k in "abcd")
    problem = Problem(jobs, (engineer("west", "west"), engineer("east", "east")))
    plan = plan_for(problem, travel)
    assert plan.assignments == {"a": "west", "b": "west", "c": "east", "d": "east"}
    assert plan.travel_time == 40 * M  # 0-5-10-0 and 100-95-90-100
    assert plan.distance == 40_000
    west = plan.route_for("west")
    # Leaves at the start of the shift, no waiting, back after 20 minutes of driving and an hour of work.
    assert west.departure == DAY.start
    assert west.working_time == 20 * M + 60 * M
    assert [v.start - v.arrival for v in west.visits] == [0, 0]
    assert not plan.unplanned


def test_skills_decide_who_goes():
    travel = line(near=0, far=100, job=1, other=-2)
    jobs = (
        Job(id="job", location="job", duration=30 * M, skills={"hydraulics": 3}),
        Job(id="other", location="other", duration=30 * M),
        Job(id="nobody", location="job", duration=30 * M, skills={"welding": 1}),
    )
    engineers = (
        engineer("near", "near", skills={"hydraulics": 2}),
        engineer("far", "far", skills={"hydraulics": 3}),
    )
    plan = plan_for(Problem(jobs, engineers), travel)
    assert plan.assignments["job"] == "far"
    assert plan.assignments["other"] == "near"
    assert reasons(plan) == {"nobody": "no_engineer"}
    assert "skills" in plan.unplanned[0].reason


def test_a_window_that_cannot_be_met_is_unplanned_not_violated():
    travel = line(home=0, remote=300, near=10)
    jobs = (
        Job(id="remote", location="remote", duration=30 * M, windows=(TimeWindow(8 * H, 9 * H),)),
        Job(id="near", location="near", duration=30 * M),
    )
    plan = plan_for(Problem(jobs, (engineer("e", "home"),)), travel)
    assert reasons(plan) == {"remote": "no_window"}
    assert plan.assignments == {"near": "e"}


def test_two_jobs_in_the_same_slot_far_apart_one_waits_for_another_day():
    travel = line(home=0, west=-60, east=60)
    window = (TimeWindow(9 * H, 9 * H + 10 * M),)
    jobs = (
        Job(id="west", location="west", duration=30 * M, windows=window),
        Job(id="east", location="east", duration=30 * M, windows=window),
    )
    plan = plan_for(Problem(jobs, (engineer("e", "home"),)), travel)
    assert len(plan.assignments) == 1
    assert list(reasons(plan).values()) == ["not_fitted"]
    visit = plan.routes[0].visits[0]
    assert 9 * H <= visit.start <= 9 * H + 10 * M


def test_priority_wins_when_only_one_fits():
    travel = line(home=0, low=5, high=20)
    jobs = (
        Job(id="low", location="low", duration=3 * H, priority=1),
        Job(id="high", location="high", duration=3 * H, priority=5),
    )
    problem = Problem(jobs, (engineer("e", "home", shift=TimeWindow(8 * H, 12 * H)),))
    plan = plan_for(problem, travel)
    assert plan.assignments == {"high": "e"}
    assert reasons(plan) == {"low": "not_fitted"}
    # Same weight: the nearer one (less travel) is served, so the test above is about priority.
    even = dataclasses.replace(problem, jobs=(jobs[0], dataclasses.replace(jobs[1], priority=1)))
    assert plan_for(even, travel).assignments == {"low": "e"}


@pytest.mark.parametrize("favourite", ["west", "east"])
def test_priority_wins_when_two_jobs_clash_in_time(favourite):
    # Little work for a long day, so the optimiser first tries to serve both; it cannot, and then the
    # more important one is kept.
    travel = line(home=0, west=-60, east=60)
    window = (TimeWindow(9 * H, 9 * H + 10 * M),)
    jobs = tuple(
        Job(id=k, location=k, duration=30 * M, windows=window, priority=5 if k == favourite else 1)
        for k in ("west", "east")
    )
    plan = plan_for(Problem(jobs, (engineer("e", "home"),)), travel)
    assert plan.assignments == {favourite: "e"}


def test_a_pinned_visit_stays_with_its_engineer_and_time():
    travel = line(near=0, far=100, job=1, other=-2)
    jobs = (
        Job(id="job", location="job", duration=30 * M, pin=Pin("far", 13 * H)),
        Job(id="other", location="other", duration=30 * M),
    )
    plan = plan_for(Problem(jobs, (engineer("near", "near"), engineer("far", "far"))), travel)
    assert plan.assignments == {"job": "far", "other": "near"}
    (visit,) = plan.route_for("far").visits
    assert visit.start == 13 * H
    assert visit.arrival == 13 * H  # leaves home in time, no waiting


def test_pins_that_cannot_be_kept_are_explained():
    travel = line(a=0, b=50, site=1, site2=40)
    jobs = (
        Job(id="unknown", location="site", duration=M, pin=Pin("ghost")),
        Job(id="unqualified", location="site", duration=M, skills={"x": 1}, pin=Pin("a")),
        Job(id="first", location="site", duration=60 * M, pin=Pin("a", 10 * H)),
        Job(id="clash", location="site2", duration=M, pin=Pin("a", 10 * H + 30 * M)),
    )
    plan = plan_for(Problem(jobs, (engineer("a", "a"), engineer("b", "b"))), travel)
    assert reasons(plan) == {"unknown": "pin_unknown", "unqualified": "pin_not_qualified", "clash": "pin_conflict"}
    assert plan.assignments == {"first": "a"}


def test_an_empty_team_is_a_clear_error():
    with pytest.raises(DomainError) as error:
        solve(Problem((Job(id="j", location="x"),), ()), time_limit=1, travel=line(x=0))
    assert error.value.code == "planning_no_engineers"
    assert "no engineer" in error.value.message


def test_a_job_without_coordinates_is_unplannable_and_the_rest_is_planned():
    travel = line(home=0, a=10)
    jobs = (Job(id="lost", location=None, duration=M), Job(id="a", location="a", duration=M))
    plan = plan_for(Problem(jobs, (engineer("e", "home"),)), travel)
    assert reasons(plan) == {"lost": "no_location"}
    assert plan.unplanned[0].reason == "The site has no coordinates."
    assert plan.assignments == {"a": "e"}


def test_an_engineer_without_a_home_is_skipped():
    travel = line(home=0, a=10)
    engineers = (Resource(id="nowhere", start=None, shift=DAY), engineer("e", "home"))
    plan = plan_for(Problem((Job(id="a", location="a"),), engineers), travel)
    assert [s.resource_id for s in plan.skipped_resources] == ["nowhere"]
    assert plan.assignments == {"a": "e"}


def test_sla_deadline_changes_the_order():
    # Home at 0, back at the office at 20: B (10) then A (12) is 4 minutes shorter, but A is due by 9:20.
    travel = line(home=0, office=20, a=12, b=10)
    jobs = (
        Job(id="a", location="a", duration=60 * M, sla_deadline=9 * H + 20 * M),
        Job(id="b", location="b", duration=60 * M),
    )
    people = (Resource(id="e", start="home", end="office", shift=DAY),)
    plan = plan_for(Problem(jobs, people), travel)
    assert plan.routes[0].job_ids == ["a", "b"]
    assert plan.lateness == 0
    relaxed = plan_for(Problem(jobs, people, objective=Objective(late_cost=0)), travel)
    assert relaxed.routes[0].job_ids == ["b", "a"]
    assert relaxed.lateness == 52 * M  # A ends at 10:12


def test_a_missing_tool_means_a_depot_visit_first():
    travel = line(home=0, store=5, job=10, easy=3)
    jobs = (
        Job(id="job", location="job", duration=30 * M, tools={"crimper"}),
        Job(id="easy", location="easy", duration=30 * M),
    )
    people = (engineer("e", "home", tools={"meter"}),)
    plan = plan_for(Problem(jobs, people, depot=Depot(location="store")), travel)
    kinds = [(v.kind, v.job_id) for v in plan.routes[0].visits]
    assert kinds.index((VisitKind.DEPOT, None)) < kinds.index((VisitKind.JOB, "job"))
    without_store = plan_for(Problem(jobs, people), travel)
    assert reasons(without_store) == {"job": "no_engineer"}


def test_spare_parts_run_out_without_a_depot_and_are_refilled_with_one():
    travel = line(home=0, store=1, a=10, b=11)
    jobs = tuple(Job(id=k, location=k, duration=30 * M, demand={"filter": 1}) for k in "ab")
    people = (engineer("e", "home", capacity={"filter": 5}, stock={"filter": 1}),)
    short = plan_for(Problem(jobs, people), travel)
    assert len(short.assignments) == 1 and list(reasons(short).values()) == ["not_fitted"]
    refilled = plan_for(Problem(jobs, people, depot=Depot(location="store")), travel)
    assert set(refilled.assignments) == {"a", "b"}
    kinds = [v.kind for v in refilled.routes[0].visits]
    assert kinds.count(VisitKind.DEPOT) == 1 and kinds.index(VisitKind.DEPOT) < 2


def test_a_break_is_taken_in_its_window():
    travel = line(home=0, a=10, b=20, c=30)
    jobs = tuple(Job(id=k, location=k, duration=2 * H) for k in "abc")
    lunch = Break(TimeWindow(12 * H, 13 * H), 30 * M)
    plan = plan_for(Problem(jobs, (engineer("e", "home", breaks=(lunch,)),)), travel)
    route = plan.routes[0]
    assert set(route.job_ids) == {"a", "b", "c"}
    (pause,) = [v for v in route.visits if v.kind == VisitKind.BREAK]
    assert 12 * H <= pause.start <= 13 * H and pause.end - pause.start == 30 * M
    assert pause.travel_time == 0


def test_several_windows_any_one_will_do():
    travel = line(home=0, a=30)
    windows = (TimeWindow(8 * H, 8 * H + 5 * M), TimeWindow(14 * H, 15 * H))
    plan = plan_for(
        Problem((Job(id="a", location="a", duration=M, windows=windows),), (engineer("e", "home"),)), travel
    )
    (visit,) = plan.routes[0].visits
    assert 14 * H <= visit.start <= 15 * H


def test_shift_end_is_hard():
    travel = line(home=0, a=60)
    job = Job(id="a", location="a", duration=4 * H)
    plan = plan_for(Problem((job,), (engineer("e", "home", shift=TimeWindow(8 * H, 13 * H)),)), travel)
    assert reasons(plan) == {"a": "no_window"}
    plan = plan_for(Problem((job,), (engineer("e", "home", shift=TimeWindow(8 * H, 14 * H)),)), travel)
    assert plan.routes[0].arrival == 14 * H


def test_travel_from_coordinates_by_default():
    home, site = GeoPoint(29.868336, 121.543990), GeoPoint(30.17, 121.24)
    problem = Problem((Job(id="a", location=site, duration=H),), (engineer("e", home),))
    plan = solve(problem, time_limit=1, max_iterations=50)
    check_plan(problem, plan)
    expected = GreatCircle().matrix([home, site]).durations[0, 1]
    assert plan.routes[0].visits[0].travel_time == expected
    assert plan.travel_time == 2 * expected


def _busy_day(n=40):
    places = {"home1": 0, "home2": 50, **{f"j{i}": (i * 37) % 100 for i in range(n)}}
    jobs = tuple(
        Job(
            id=f"j{i}",
            location=f"j{i}",
            duration=20 * M,
            windows=(TimeWindow(8 * H + (i % 8) * H, 10 * H + (i % 8) * H),),
        )
        for i in range(n)
    )
    people = (engineer("e1", "home1"), engineer("e2", "home2"), engineer("e3", "home1"))
    return Problem(jobs, people), line(**places)


def test_cancellation_stops_early_with_a_usable_plan():
    problem, travel = _busy_day()
    calls = []

    def should_stop():
        calls.append(time.perf_counter())
        return len(calls) >= 3

    started = time.perf_counter()
    plan = solve(problem, time_limit=30, seed=0, travel=travel, should_stop=should_stop)
    assert time.perf_counter() - started < 5
    assert plan.cancelled and len(calls) == 3
    check_plan(problem, plan, travel)


def test_progress_is_reported():
    problem, travel = _busy_day()
    reports = []
    plan = solve(problem, time_limit=0.6, seed=0, travel=travel, progress=reports.append, progress_interval=0.1)
    assert len(reports) >= 4
    assert [r.elapsed for r in reports] == sorted(r.elapsed for r in reports)
    assert reports[-1].fraction == pytest.approx(1, abs=0.1)
    assert reports[-1].iterations == plan.iterations > 0
    assert not plan.cancelled


def test_check_plan_rejects_a_tampered_plan():
    travel = line(near=0, far=100, job=1, other=-2)
    jobs = (
        Job(id="job", location="job", duration=30 * M, skills={"hydraulics": 3}, windows=(TimeWindow(9 * H, 10 * H),)),
        Job(id="other", location="other", duration=30 * M),
    )
    engineers = (engineer("near", "near", skills={"hydraulics": 2}), engineer("far", "far", skills={"hydraulics": 3}))
    problem = Problem(jobs, engineers)
    plan = plan_for(problem, travel)
    far = plan.route_for("far")
    stolen = dataclasses.replace(far, resource_id="near")  # the same stops by the engineer without the skill
    with pytest.raises(PlanCheckError):
        check_plan(problem, dataclasses.replace(plan, routes=(stolen,)), travel)
    (visit,) = far.visits
    late = dataclasses.replace(visit, arrival=visit.arrival + H, start=visit.start + H, end=visit.end + H)
    moved = dataclasses.replace(far, visits=(late,), departure=far.departure + H, arrival=far.arrival + H)
    routes = tuple(moved if r is far else r for r in plan.routes)
    with pytest.raises(PlanCheckError, match="outside its windows"):
        check_plan(problem, dataclasses.replace(plan, routes=routes), travel)
    with pytest.raises(PlanCheckError, match="neither planned nor unplanned"):
        check_plan(problem, dataclasses.replace(plan, routes=(plan.route_for("near"),)), travel)


def test_bad_input_is_refused_early():
    with pytest.raises(ValueError):
        TimeWindow(10, 5)
    with pytest.raises(ValueError):
        Job(id="j", location="x", priority=0)
    with pytest.raises(ValueError):
        Resource(id="e", start="x", shift=DAY, capacity={"filter": 1}, stock={"filter": 2})
    with pytest.raises(ValueError, match="unique"):
        Problem((Job(id="j", location="x"), Job(id="j", location="y")), ())
    with pytest.raises(ValueError):
        solve(Problem((), (engineer("e", "x"),)), time_limit=-1, travel=line(x=0))
