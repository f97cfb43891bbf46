"""Day-plan optimisation with PyVRP (0.14).

How the planning input maps onto PyVRP:
- every engineer is a vehicle type (identical engineers share one, with several vehicles) leaving its
  home base no earlier than the shift start and back by its end (hard);
- every job is an optional client whose prize is its priority weight times a scale larger than any
  possible route cost, so serving more weight always wins over shorter travel; travel, distance,
  working time and engineer costs are the route costs;
- skills, tools without a depot, capacity and "can reach the site in the shift" decide which engineers
  may do a job; PyVRP has no per-client vehicle restriction, so each set of allowed jobs is a routing
  profile in which the arcs into and out of the other jobs are forbidden (too long for any shift);
- several time windows, and an SLA deadline, become alternatives of one job (a mutually exclusive
  group): the copy that ends by the deadline carries `late_cost` more prize than the one that does not;
- tools and parts with a depot: load dimensions emptied by one depot visit (PyVRP reloads): an engineer
  starts with `capacity - stock` already "on board", so he can use at most his stock, or a tool he
  lacks not at all, until he has been to the depot;
- a pinned visit is a required client that only its engineer may do, at its pinned start if given;
- a break is a required client of its engineer with no travel to or from it; the plan is then timed
  again with the real travel (the break taken where the engineer is) and checked.

The search runs in two phases: first every job is required (PyVRP's penalties then push hard towards a
plan that serves everything, which finds feasible plans on tight windows far more often); if that finds
no feasible plan in half the time (or there is plainly more work than working time), the jobs become
optional with their prizes and the search goes on from where it stopped.

The plan returned is timed from the travel matrix itself and checked before it is returned (skills,
tools, stock, windows, shifts, pins, breaks); a visit the check rejects is dropped with a reason
(this only happens when the search found no feasible plan in time, or around a break that does not
fit where the search put it). `check_plan` walks a finished plan again independently of the solver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from fieldservice.core.errors import DomainError

from .model import (
    Depot,
    Job,
    Plan,
    Problem,
    Progress,
    Resource,
    Route,
    SkippedResource,
    TimeWindow,
    Unplannable,
    Visit,
    VisitKind,
)
from .travel import UNREACHABLE, TravelMatrix, TravelSource, default_source

__all__ = ["PlanCheckError", "check_plan", "solve"]

# PyVRP warns above 2**44 for matrix entries; stay well below so that sums cannot overflow.
_MAX_ENTRY = 1 << 40


class PlanCheckError(AssertionError):
    """The optimiser produced a plan that breaks a hard rule (a bug, never an input problem)."""


# --- reasons -------------------------------------------------------------------------------------------


def _reason(code: str) -> str:
    messages = {
        "no_location": _("The site has no coordinates."),
        "no_engineer": _("No engineer of the team has the skills, tools or carrying capacity this job needs."),
        "no_window": _(
            "No suitable engineer can reach the site within its time window and be back by the end of the shift."
        ),
        "pin_unknown": _("The engineer this visit is pinned to is not available in this plan."),
        "pin_not_qualified": _("The engineer this visit is pinned to lacks the skills, tools or capacity it needs."),
        "pin_unreachable": _("The pinned engineer cannot be there at the pinned time within the shift."),
        "pin_conflict": _("The pinned visit clashes with another pinned visit of the same engineer."),
        "not_fitted": _("There was not enough engineer time left to fit it into this plan."),
        "no_home": _("The engineer has no home base with coordinates."),
    }
    return messages[code]


def _unplannable(job: Job, code: str) -> Unplannable:
    return Unplannable(job=job, code=code, reason=_reason(code))


# --- prepared problem ----------------------------------------------------------------------------------


@dataclass
class _Stop:
    """A client of the PyVRP model: a copy of a job in one window, or a break of one engineer."""

    kind: str
    window: TimeWindow
    job: Job | None = None
    resource: Resource | None = None
    duration: int = 0
    prize: int = 0
    required: bool = False
    group: int | None = None


class _Places:
    def __init__(self, points: Sequence[Hashable], matrix: TravelMatrix):
        self.index = {point: i for i, point in enumerate(points)}
        self.matrix = matrix

    def duration(self, a: Hashable, b: Hashable) -> int:
        return int(self.matrix.durations[self.index[a], self.index[b]])

    def distance(self, a: Hashable, b: Hashable) -> int:
        return int(self.matrix.distances[self.index[a], self.index[b]])


def _qualifies(job: Job, resource: Resource, depot: Depot | None) -> bool:
    for skill, level in job.skills.items():
        held = resource.skills.get(skill)
        if held is None or held < level:
            return False
    if depot is None and not job.tools <= resource.tools:
        return False
    for dimension, amount in job.demand.items():
        if amount > resource.capacity.get(dimension, 0):
            return False
        if depot is None and amount > resource.starting_stock(dimension):
            return False
    return True


def _needs_depot(job: Job, resource: Resource) -> bool:
    return not job.tools <= resource.tools or any(
        amount > resource.starting_stock(dimension) for dimension, amount in job.demand.items()
    )


def _job_windows(job: Job, horizon: TimeWindow) -> list[TimeWindow]:
    if job.pin is not None and job.pin.start is not None:
        return [TimeWindow(job.pin.start, job.pin.start)]
    windows = []
    for window in job.windows or (horizon,):
        start, end = max(window.start, horizon.start), min(window.end, horizon.end)
        if start <= end:
            windows.append(TimeWindow(start, end))
    return windows


def _reachable(job: Job, resource: Resource, depot: Depot | None, places: _Places, horizon: TimeWindow) -> bool:
    """Could this engineer do this job alone in his shift (ignoring everything else in the plan)?"""
    home, back = resource.start, resource.end_location
    if depot is not None and _needs_depot(job, resource):
        leg1, leg2 = places.duration(home, depot.location), places.duration(depot.location, job.location)
        if leg1 >= UNREACHABLE or leg2 >= UNREACHABLE:
            return False
        earliest_there = resource.shift.start + leg1
        if depot.window is not None:
            earliest_there = max(earliest_there, depot.window.start)
            if earliest_there > depot.window.end:
                return False
        travel_in = earliest_there + depot.service + leg2 - resource.shift.start
    else:
        travel_in = places.duration(home, job.location)
    travel_out = places.duration(job.location, back)
    if travel_in >= UNREACHABLE or travel_out >= UNREACHABLE:
        return False
    if resource.max_working_time is not None and travel_in + job.duration + travel_out > resource.max_working_time:
        return False
    for window in _job_windows(job, horizon):
        earliest = max(window.start, resource.shift.start + travel_in)
        latest = min(window.end, resource.shift.end - job.duration - travel_out)
        if earliest <= latest:
            return True
    return False


# --- timing and checking one route ---------------------------------------------------------------------


class _InfeasibleError(Exception):
    def __init__(self, position: int, what: str):
        super().__init__(what)
        self.position = position  # index of the stop that cannot be kept (len(stops) = the way home)
        self.what = what


def _time_route(resource: Resource, stops: Sequence[_Stop | Depot], places: _Places) -> Route:
    """Times a route with the real travel: leave as late as possible without coming back later than the
    earliest possible return (the shortest working time); raise _InfeasibleError on the first broken rule."""
    shift = resource.shift
    steps = []  # (travel, distance, window, service) per stop
    place = resource.start
    for stop in stops:
        if isinstance(stop, Depot):
            target, window, service = stop.location, stop.window, stop.service
        else:
            target = stop.job.location if stop.kind == VisitKind.JOB else None
            window, service = stop.window, stop.duration
        if target is None:  # a break: taken where the engineer is
            steps.append((0, 0, window, service))
            continue
        travel = places.duration(place, target)
        if travel >= UNREACHABLE:
            raise _InfeasibleError(len(steps), "unreachable")
        steps.append((travel, places.distance(place, target), window, service))
        place = target
    back_travel = places.duration(place, resource.end_location)
    back_distance = places.distance(place, resource.end_location)
    if back_travel >= UNREACHABLE:
        raise _InfeasibleError(len(stops), "unreachable")

    def forward(departure: int):
        moment = departure
        timed = []
        for position, (travel, _distance, window, service) in enumerate(steps):
            arrival = moment + travel
            start = arrival if window is None else max(arrival, window.start)
            if window is not None and start > window.end:
                raise _InfeasibleError(position, "window")
            timed.append((arrival, start, start + service))
            moment = start + service
        return timed, moment + back_travel

    _timed, earliest_return = forward(shift.start)
    if earliest_return > shift.end:
        raise _InfeasibleError(len(stops), "shift")
    # Latest start of each stop that still returns at `earliest_return`: leaving later only saves waiting.
    latest = earliest_return - back_travel
    for travel, _distance, window, service in reversed(steps):
        latest -= service
        if window is not None:
            latest = min(latest, window.end)
        latest -= travel
    departure = max(shift.start, latest)
    timed, arrival_home = forward(departure)
    if resource.max_working_time is not None and arrival_home - departure > resource.max_working_time:
        raise _InfeasibleError(len(stops), "working_time")

    visits = []
    for stop, (travel, distance, _window, _service), (arrival, start, end) in zip(stops, steps, timed, strict=True):
        if isinstance(stop, Depot):
            visits.append(Visit(VisitKind.DEPOT, None, arrival, start, end, travel, distance))
        elif stop.kind == VisitKind.BREAK:
            visits.append(Visit(VisitKind.BREAK, None, arrival, start, end, travel, distance))
        else:
            deadline = stop.job.sla_deadline
            lateness = max(0, end - deadline) if deadline is not None else 0
            visits.append(Visit(VisitKind.JOB, stop.job.id, arrival, start, end, travel, distance, lateness))
    return Route(resource.id, departure, tuple(visits), back_travel, back_distance, arrival_home)


def _check_loads(resource: Resource, stops: Sequence[_Stop | Depot], depot: Depot | None) -> None:
    """Skills, tools and stock along a route; raise _InfeasibleError at the first job that breaks one."""
    carried = {dimension: resource.starting_stock(dimension) for dimension in resource.capacity}
    tools = set(resource.tools)
    for position, stop in enumerate(stops):
        if isinstance(stop, Depot):
            if depot is None or stop is not depot:
                raise _InfeasibleError(position, "depot")
            tools = None  # every tool
            carried = dict(resource.capacity)
            continue
        if stop.kind != VisitKind.JOB:
            continue
        job = stop.job
        for skill, level in job.skills.items():
            held = resource.skills.get(skill)
            if held is None or held < level:
                raise _InfeasibleError(position, "skill")
        if tools is not None and not job.tools <= tools:
            raise _InfeasibleError(position, "tool")
        for dimension, amount in job.demand.items():
            carried[dimension] = carried.get(dimension, 0) - amount
            if carried[dimension] < 0:
                raise _InfeasibleError(position, "stock")


def _check_route(resource, stops, places, depot) -> Route:
    _check_loads(resource, stops, depot)
    depot_visits = sum(1 for stop in stops if isinstance(stop, Depot))
    if depot is not None and depot_visits > depot.max_visits:
        last = max(i for i, stop in enumerate(stops) if isinstance(stop, Depot))
        raise _InfeasibleError(last, "depot")
    return _time_route(resource, stops, places)


def _repair(resource, stops, places, depot) -> tuple[Route | None, list[_Stop], list[str]]:
    """Drop the visits that break a rule until the route holds; returns it, the dropped stops and warnings."""
    stops = list(stops)
    dropped: list[_Stop] = []
    warnings: list[str] = []
    while True:
        try:
            return _check_route(resource, stops, places, depot), dropped, warnings
        except _InfeasibleError as problem:
            # The search saw no travel around a break; taken where the engineer is, it may fit elsewhere.
            moved = _move_breaks(resource, stops, places, depot)
            if moved is not None:
                return moved, dropped, warnings
            position = min(problem.position, len(stops) - 1)
            # Drop a job: the one at fault, or the last before a break or the way home that cannot be kept.
            candidates = [i for i in range(position, -1, -1) if isinstance(stops[i], _Stop)]
            jobs = [i for i in candidates if stops[i].kind == VisitKind.JOB]
            if jobs:
                victim = jobs[0]
            elif candidates:
                victim = candidates[0]
                warnings.append(_("A break of %(engineer)s could not be placed.") % {"engineer": resource.id})
            else:
                victim = position
            removed = stops.pop(victim)
            if isinstance(removed, _Stop) and removed.kind == VisitKind.JOB:
                dropped.append(removed)
            if not any(isinstance(s, _Stop) and s.kind == VisitKind.JOB for s in stops):
                breaks = [s for s in stops if isinstance(s, _Stop) and s.kind == VisitKind.BREAK]
                try:
                    route = _check_route(resource, breaks, places, depot)
                except _InfeasibleError:
                    route = None
                return route, dropped, warnings


def _move_breaks(resource, stops, places, depot) -> Route | None:
    """The shortest feasible route with the same jobs in the same order and the breaks moved, if any."""
    breaks = [stop for stop in stops if isinstance(stop, _Stop) and stop.kind == VisitKind.BREAK]
    if not breaks:
        return None
    rest = [stop for stop in stops if not (isinstance(stop, _Stop) and stop.kind == VisitKind.BREAK)]
    candidates = [rest]
    for pause in breaks:
        candidates = [c[:i] + [pause] + c[i:] for c in candidates for i in range(len(c) + 1)]
        if len(candidates) > 5000:  # many breaks on a long route: keep it cheap
            return None
    best = None
    for candidate in candidates:
        try:
            route = _check_route(resource, candidate, places, depot)
        except _InfeasibleError:
            continue
        if best is None or route.working_time < best.working_time:
            best = route
    return best


def check_plan(problem: Problem, plan: Plan, travel: TravelSource | None = None) -> None:
    """Walk every route of `plan` again from the problem and raise PlanCheckError if a hard rule is broken:
    a job twice, or both planned and unplanned, or neither; an engineer without a skill, a tool or the
    stock; a start outside the job's windows or a moved pin; a break outside its window; leaving before
    the shift or coming back after it; times that do not follow from the travel matrix."""
    points = _points(problem, [r for r in problem.resources if r.start is not None and r.end_location is not None])
    _verify(problem, plan, _Places(points, (travel or default_source()).matrix(points)))


def _verify(problem: Problem, plan: Plan, places: _Places) -> None:
    jobs = {job.id: job for job in problem.jobs}
    resources = {resource.id: resource for resource in problem.resources}
    depot = problem.depot
    seen: set[str] = set()

    def fail(route: Route, message: str):
        raise PlanCheckError(f"route of {route.resource_id}: {message}")

    for route in plan.routes:
        resource = resources.get(route.resource_id)
        if resource is None or resource.start is None:
            raise PlanCheckError(f"a route for an unknown engineer {route.resource_id}")
        if route.departure < resource.shift.start or route.arrival > resource.shift.end:
            fail(route, "outside the shift")
        if resource.max_working_time is not None and route.working_time > resource.max_working_time:
            fail(route, "too long")
        stops: list[_Stop | Depot] = []
        breaks = list(resource.breaks)
        place, moment = resource.start, route.departure
        for visit in route.visits:
            if visit.kind == VisitKind.DEPOT:
                if depot is None:
                    fail(route, "a depot visit without a depot")
                target, duration, windows = depot.location, depot.service, [depot.window] if depot.window else []
                stops.append(depot)
            elif visit.kind == VisitKind.BREAK:
                pause = next((b for b in breaks if visit.start in b.window), None)
                if pause is None:
                    fail(route, f"a break at {visit.start} outside every break window")
                breaks.remove(pause)
                target, duration, windows = None, pause.duration, [pause.window]
            else:
                job = jobs.get(visit.job_id)
                if job is None or job.location is None or job.id in seen:
                    fail(route, f"job {visit.job_id} unknown, without a place, or planned twice")
                seen.add(job.id)
                if job.pin is not None and (
                    job.pin.resource_id != resource.id or job.pin.start not in (None, visit.start)
                ):
                    fail(route, f"pinned job {job.id} moved")
                target, duration, windows = job.location, job.duration, list(job.windows)
                stops.append(_Stop(VisitKind.JOB, TimeWindow(visit.start, visit.start), job=job))
            travel = 0 if target is None else places.duration(place, target)
            if visit.travel_time != travel or visit.arrival != moment + travel:
                fail(route, f"arrival at stop {visit.job_id or visit.kind} does not follow from the travel")
            if visit.start < visit.arrival or visit.end != visit.start + duration:
                fail(route, f"times of stop {visit.job_id or visit.kind} do not add up")
            if windows and not any(visit.start in window for window in windows):
                fail(route, f"stop {visit.job_id or visit.kind} starts at {visit.start}, outside its windows")
            place = place if target is None else target
            moment = visit.end
        back = places.duration(place, resource.end_location)
        if route.return_travel_time != back or route.arrival != moment + back:
            fail(route, "the way home does not follow from the travel")
        if depot is not None and sum(1 for s in stops if isinstance(s, Depot)) > depot.max_visits:
            fail(route, "too many depot visits")
        try:
            _check_loads(resource, stops, depot)
        except _InfeasibleError as error:
            fail(route, f"{error.what} missing at stop {error.position}")
    unplanned = [item.job_id for item in plan.unplanned]
    if len(set(unplanned)) != len(unplanned) or seen & set(unplanned):
        raise PlanCheckError("a job is unplanned twice, or both planned and unplanned")
    if seen | set(unplanned) != set(jobs):
        raise PlanCheckError(f"jobs neither planned nor unplanned: {sorted(set(jobs) - seen - set(unplanned))}")


def _points(problem: Problem, resources: Sequence[Resource]) -> list[Hashable]:
    points: dict[Hashable, None] = {}
    for resource in resources:
        points[resource.start] = None
        points[resource.end_location] = None
    if problem.depot is not None:
        points[problem.depot.location] = None
    for job in problem.jobs:
        if job.location is not None:
            points[job.location] = None
    return list(points)


# --- the search ----------------------------------------------------------------------------------------


_NO_PLAN = (1 << 63) - 1  # PyVRP's cost of an infeasible solution


class _Stopper:
    """PyVRP stopping criterion: time limit, iteration limit, cancellation, progress reports, and giving up
    the serve-everything phase when it has found no feasible plan by `give_up_at` seconds."""

    def __init__(self, time_limit, max_iterations, should_stop, progress, interval):
        self.time_limit = time_limit
        self.max_iterations = max_iterations
        self.should_stop = should_stop
        self.progress = progress
        self.interval = interval
        self.started = time.perf_counter()
        self.iterations = 0
        self.cancelled = False
        self.give_up_at: float | None = None  # a share of the time (and of the iterations)
        self._next_report = 0.0
        self._next_poll = 0.0
        self.best_cost: int | None = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @property
    def exhausted(self) -> bool:
        over = self.max_iterations is not None and self.iterations >= self.max_iterations
        return self.cancelled or over or self.elapsed >= self.time_limit

    def report(self) -> None:
        if self.progress is not None:
            self.progress(Progress(self.elapsed, self.time_limit, self.iterations, self.best_cost))

    def __call__(self, best_cost) -> bool:
        now = self.elapsed
        self.best_cost = int(best_cost) if best_cost < _NO_PLAN else None
        if self.progress is not None and now >= self._next_report:
            self._next_report = now + self.interval
            self.report()
        if self.should_stop is not None and now >= self._next_poll:
            self._next_poll = now + 0.05
            if self.should_stop():
                self.cancelled = True
                return True
        if self.give_up_at is not None and self.best_cost is None:
            over_time = now >= self.give_up_at * self.time_limit
            over_count = self.max_iterations is not None and self.iterations >= self.give_up_at * self.max_iterations
            if over_time or over_count:
                return True
        if now >= self.time_limit:
            return True
        if self.max_iterations is not None and self.iterations >= self.max_iterations:
            return True
        self.iterations += 1
        return False


def _search_params(data):
    from pyvrp import SolveParams
    from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
    from pyvrp.search import NeighbourhoodParams, PerturbationParams

    # Measured on the benches (bench/): in runs of 10-30 s a shorter late-acceptance history than PyVRP's
    # default (made for long runs) does better. With one or two kinds of vehicle (Solomon) PyVRP's
    # perturbation and neighbourhood sizes are best; with many different engineers (own homes, skills,
    # stock: the TRSP, and real teams) every local search pass costs more, and smaller perturbations
    # with a narrower neighbourhood make several times more iterations and better plans.
    many_kinds = data.num_vehicle_types > 2
    return SolveParams(
        ils=IteratedLocalSearchParams(history_length=100),
        neighbourhood=NeighbourhoodParams(num_neighbours=25 if many_kinds else 50),
        perturbation=PerturbationParams(min_perturbations=1, max_perturbations=8 if many_kinds else 25),
    )


def _search(model: _Model, stopper: _Stopper, seed: int):
    """Serve everything if possible (required jobs; PyVRP's penalties push hard towards a feasible plan);
    when that finds none in half the time, or cannot be (more work than working time), plan the optional
    jobs by prize, starting from where the first phase stopped."""
    from pyvrp import Route as PyRoute
    from pyvrp import Solution
    from pyvrp import solve as pyvrp_solve

    params = _search_params(model.data)
    start = None
    if model.data_all is not None:
        stopper.give_up_at = 0.5
        result = pyvrp_solve(model.data_all, stopper, seed=seed, collect_stats=False, display=False, params=params)
        stopper.give_up_at = None
        if result.best.is_feasible() or stopper.exhausted:
            return result.best
        routes = [
            PyRoute(model.data, [activity for activity in route.schedule()[1:-1]], route.vehicle_type())
            for route in result.best.routes()
        ]
        start = Solution(model.data, routes)
    result = pyvrp_solve(
        model.data, stopper, seed=seed + 1, collect_stats=False, display=False, params=params, initial_solution=start
    )
    return result.best


def solve(
    problem: Problem,
    *,
    time_limit: float,
    seed: int = 0,
    travel: TravelSource | None = None,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_iterations: int | None = None,
    progress_interval: float = 0.5,
) -> Plan:
    """Plan the day. Raises DomainError when there is no engineer to plan for.

    progress(Progress) is called about every `progress_interval` seconds of the search and once at its end;
    should_stop() is asked between iterations (at most every 50 ms): when it returns True the search ends
    and the best plan found so far comes back with `cancelled=True`.
    """
    if time_limit < 0:
        raise ValueError("time_limit must not be negative")
    if not problem.resources:
        raise DomainError("planning_no_engineers", _("There is no engineer to plan for: the team is empty."))
    started = time.perf_counter()
    skipped = [
        SkippedResource(r.id, "no_home", _reason("no_home"))
        for r in problem.resources
        if r.start is None or r.end_location is None
    ]
    resources = [r for r in problem.resources if r.start is not None and r.end_location is not None]
    if not resources:
        raise DomainError("planning_no_engineers", _("No engineer of the team has a home base with coordinates."))

    unplanned: list[Unplannable] = [_unplannable(job, "no_location") for job in problem.jobs if job.location is None]
    located = [job for job in problem.jobs if job.location is not None]
    points = _points(problem, resources)
    matrix = (travel or default_source()).matrix(points)
    places = _Places(points, matrix)
    warnings = list(matrix.warnings)
    depot = problem.depot
    horizon = TimeWindow(min(r.shift.start for r in resources), max(r.shift.end for r in resources))
    by_id = {r.id: r for r in resources}

    # Who may do what.
    allowed: dict[str, list[Resource]] = {}
    plannable: list[Job] = []
    for job in located:
        if job.pin is not None:
            pinned = by_id.get(job.pin.resource_id)
            if pinned is None:
                unplanned.append(_unplannable(job, "pin_unknown"))
            elif not _qualifies(job, pinned, depot):
                unplanned.append(_unplannable(job, "pin_not_qualified"))
            elif not _reachable(job, pinned, depot, places, horizon):
                unplanned.append(_unplannable(job, "pin_unreachable"))
            else:
                allowed[job.id] = [pinned]
                plannable.append(job)
            continue
        qualified = [r for r in resources if _qualifies(job, r, depot)]
        if not qualified:
            unplanned.append(_unplannable(job, "no_engineer"))
            continue
        reachable = [r for r in qualified if _reachable(job, r, depot, places, horizon)]
        if not reachable:
            unplanned.append(_unplannable(job, "no_window"))
            continue
        allowed[job.id] = reachable
        plannable.append(job)
    plannable, clashes = _drop_pin_clashes(plannable, by_id, places)
    unplanned.extend(_unplannable(job, "pin_conflict") for job in clashes)

    if not plannable:
        return Plan((), tuple(unplanned), tuple(skipped), tuple(warnings), runtime=time.perf_counter() - started)

    stops, groups, breaks_of = _make_stops(plannable, resources, problem, horizon, warnings)
    model = _Model(problem, resources, stops, groups, breaks_of, allowed, places, horizon)
    stopper = _Stopper(time_limit, max_iterations, should_stop, progress, progress_interval)
    best = _search(model, stopper, seed)
    stopper.report()

    routes: list[Route] = []
    served: set[str] = set()
    for route_stops, resource in model.routes_of(best):
        route, dropped, notes = _repair(resource, route_stops, places, depot)
        warnings.extend(notes)
        for stop in dropped:
            code = "pin_conflict" if stop.job.pin is not None else "not_fitted"
            unplanned.append(_unplannable(stop.job, code))
            served.add(stop.job.id)
        if route is not None and route.job_ids:
            routes.append(route)
            served.update(route.job_ids)
    for job in plannable:
        if job.id not in served:
            unplanned.append(_unplannable(job, "pin_conflict" if job.pin is not None else "not_fitted"))
    order = {r.id: i for i, r in enumerate(problem.resources)}
    routes.sort(key=lambda route: order[route.resource_id])
    plan = Plan(
        tuple(routes),
        tuple(unplanned),
        tuple(skipped),
        tuple(warnings),
        cancelled=stopper.cancelled,
        iterations=stopper.iterations,
        runtime=time.perf_counter() - started,
    )
    _verify(problem, plan, places)  # never hand out a plan that breaks a hard rule
    return plan


def _drop_pin_clashes(jobs: list[Job], by_id: dict[str, Resource], places: _Places) -> tuple[list[Job], list[Job]]:
    """Pinned visits with a start, per engineer in time order: drop one that cannot follow the one before."""
    clashes: list[Job] = []
    per_engineer: dict[str, list[Job]] = {}
    for job in jobs:
        if job.pin is not None and job.pin.start is not None:
            per_engineer.setdefault(job.pin.resource_id, []).append(job)
    for resource_id, pinned in per_engineer.items():
        resource = by_id[resource_id]
        place, free_at = resource.start, resource.shift.start
        for job in sorted(pinned, key=lambda j: (j.pin.start, j.id)):
            if free_at + places.duration(place, job.location) > job.pin.start:
                clashes.append(job)
                continue
            place, free_at = job.location, job.pin.start + job.duration
    dropped = {job.id for job in clashes}
    return [job for job in jobs if job.id not in dropped], clashes


def _make_stops(plannable, resources, problem, horizon, warnings):
    objective = problem.objective
    stops: list[_Stop] = []
    groups: list[tuple[bool, list[int]]] = []
    for job in plannable:
        copies: list[tuple[TimeWindow, int]] = []
        for window in _job_windows(job, horizon):
            deadline = job.sla_deadline
            if deadline is None or objective.late_cost == 0:
                copies.append((window, 0))
                continue
            on_time_until = deadline - job.duration
            if window.start <= on_time_until:
                copies.append((TimeWindow(window.start, min(window.end, on_time_until)), objective.late_cost))
            if window.end > on_time_until:
                copies.append((window, 0))
        required = job.pin is not None
        group = None
        if len(copies) > 1:
            group = len(groups)
            groups.append((required, []))
        for window, bonus in copies:
            if group is not None:
                groups[group][1].append(len(stops))
            stops.append(
                _Stop(
                    VisitKind.JOB,
                    window,
                    job=job,
                    duration=job.duration,
                    prize=bonus,  # the priority part is added once the scale is known
                    required=required and group is None,
                    group=group,
                )
            )
    breaks_of: dict[str, list[int]] = {}
    for resource in resources:
        for pause in resource.breaks:
            start = max(pause.window.start, resource.shift.start)
            end = min(pause.window.end, resource.shift.end - pause.duration)
            if start > end:
                warnings.append(
                    _("A break of %(engineer)s lies outside the shift and was left out.") % {"engineer": resource.id}
                )
                continue
            breaks_of.setdefault(resource.id, []).append(len(stops))
            stops.append(
                _Stop(
                    VisitKind.BREAK,
                    TimeWindow(start, end),
                    resource=resource,
                    duration=pause.duration,
                    required=True,
                )
            )
    return stops, groups, breaks_of


class _Model:
    """The PyVRP ProblemData for a prepared problem, and the way back from its solution."""

    def __init__(self, problem, resources, stops, groups_spec, breaks_of, allowed, places, horizon):
        from pyvrp import Client, ClientGroup, Location, ProblemData, VehicleType
        from pyvrp import Depot as PyDepot

        objective = problem.objective
        depot = problem.depot
        self.stops = stops
        self.depot = depot
        n_stops = len(stops)

        # Which stops each engineer may take.
        job_stops: dict[str, list[int]] = {}
        for index, stop in enumerate(stops):
            if stop.kind == VisitKind.JOB:
                job_stops.setdefault(stop.job.id, []).append(index)
        eligible: dict[str, frozenset[int]] = {}
        for resource in resources:
            mine = set(breaks_of.get(resource.id, []))
            for job_id, engineers in allowed.items():
                if any(engineer.id == resource.id for engineer in engineers):
                    mine.update(job_stops.get(job_id, []))
            eligible[resource.id] = frozenset(mine)

        # Identical engineers share one vehicle type.
        types: dict[tuple, list[Resource]] = {}
        for resource in resources:
            key = (
                resource.start,
                resource.end_location,
                resource.shift,
                tuple(sorted(resource.capacity.items())),
                tuple(sorted((d, resource.starting_stock(d)) for d in resource.capacity)),
                resource.tools,
                resource.max_working_time,
                eligible[resource.id],
            )
            types.setdefault(key, []).append(resource)
        self.types = list(types.values())

        # Depots: the store first (reloads), then each type's start and end.
        locations_points: list[Hashable | None] = []
        depots = []
        if depot is not None:
            window = depot.window or horizon
            depots.append(PyDepot(0, tw_early=window.start, tw_late=window.end, service_duration=depot.service))
            locations_points.append(depot.location)
        type_depots = []
        for group in self.types:
            first = group[0]
            ends = []
            for point in (first.start, first.end_location):
                depots.append(PyDepot(len(locations_points), tw_early=horizon.start, tw_late=horizon.end))
                locations_points.append(point)
                ends.append(len(depots) - 1)
            type_depots.append(ends)
        n_depots = len(depots)
        for stop in stops:
            locations_points.append(stop.job.location if stop.kind == VisitKind.JOB else None)
        n_locations = len(locations_points)

        # Base matrices over PyVRP locations (a break is nowhere: no travel to or from it).
        index = np.array([places.index[p] if p is not None else 0 for p in locations_points], dtype=np.int64)
        nowhere = np.array([p is None for p in locations_points])
        sub = np.ix_(index, index)
        durations = places.matrix.durations[sub].copy()
        distances = places.matrix.distances[sub].copy()
        unreachable = (durations >= UNREACHABLE) | (distances >= UNREACHABLE)
        durations[nowhere, :] = 0
        durations[:, nowhere] = 0
        distances[nowhere, :] = 0
        distances[:, nowhere] = 0
        unreachable[nowhere, :] = False
        unreachable[:, nowhere] = False
        costs = objective.travel_time_cost * durations + objective.distance_cost * distances

        # The prize scale: more than any plan can cost, so one more unit of priority always wins.
        finite = costs[~unreachable]
        max_arc = int(finite.max()) if finite.size else 0
        n_vehicles = len(resources)
        reloads = depot.max_visits if depot is not None else 0
        bound = (
            max_arc * (n_stops + n_vehicles * (2 + 2 * reloads))
            + objective.working_time_cost * sum(r.shift.end - r.shift.start for r in resources)
            + objective.engineer_cost * n_vehicles
            + objective.late_cost * n_stops
        )
        scale = bound + 1
        for stop in stops:
            if stop.kind == VisitKind.JOB:
                stop.prize += stop.job.priority * scale
        max_prize = max((stop.prize for stop in stops), default=0)
        forbid_cost = min(_MAX_ENTRY, 4 * (max_prize + bound + 1))
        forbid_duration = min(_MAX_ENTRY, 4 * (horizon.end - horizon.start + 1) + 1)
        if max_prize * max(1, len(stops)) > (1 << 60):
            raise ValueError("priorities and costs are too large to plan with")
        costs[unreachable] = forbid_cost
        durations[unreachable] = forbid_duration
        np.fill_diagonal(costs, 0)
        np.fill_diagonal(durations, 0)

        # One routing profile per set of allowed stops: arcs into and out of the others are forbidden.
        profiles: dict[frozenset[int], int] = {}
        cost_matrices, duration_matrices = [], []
        type_profile = []
        for group in self.types:
            allowed_stops = eligible[group[0].id]
            if allowed_stops not in profiles:
                banned = np.array([n_depots + i for i in range(n_stops) if i not in allowed_stops], dtype=np.int64)
                c, d = costs.copy(), durations.copy()
                if banned.size:
                    c[banned, :] = forbid_cost
                    c[:, banned] = forbid_cost
                    d[banned, :] = forbid_duration
                    d[:, banned] = forbid_duration
                    c[banned, banned] = 0
                    d[banned, banned] = 0
                profiles[allowed_stops] = len(cost_matrices)
                cost_matrices.append(c)
                duration_matrices.append(d)
            type_profile.append(profiles[allowed_stops])

        # Load dimensions: used-up amounts, then (with a depot) one per tool that some job needs. A dimension
        # that binds no engineer (his stock covers all the jobs he may do; he holds the tool) is left out:
        # every dimension makes each move dearer to evaluate.
        def binds(resource: Resource, dimension: str) -> bool:
            mine = [stops[i].job for i in eligible[resource.id] if stops[i].job is not None]
            return sum(job.demand.get(dimension, 0) for job in mine) > resource.starting_stock(dimension)

        def lacks(resource: Resource, tool: str) -> bool:
            mine = [stops[i].job for i in eligible[resource.id] if stops[i].job is not None]
            return tool not in resource.tools and any(tool in job.tools for job in mine)

        demanded = sorted({d for stop in stops if stop.job is not None for d in stop.job.demand})
        dimensions = [d for d in demanded if any(binds(group[0], d) for group in self.types)]
        needed_tools = sorted({t for stop in stops if stop.job is not None for t in stop.job.tools})
        tool_dims = [t for t in needed_tools if any(lacks(group[0], t) for group in self.types)] if depot else []
        tool_need = {t: sum(1 for s in stops if s.job is not None and t in s.job.tools) for t in tool_dims}

        def clients_and_groups(serve_all: bool):
            clients = []
            for i, stop in enumerate(stops):
                delivery = [0] * (len(dimensions) + len(tool_dims))
                prize = stop.prize
                if stop.job is not None:
                    delivery = [stop.job.demand.get(d, 0) for d in dimensions] + [
                        1 if t in stop.job.tools else 0 for t in tool_dims
                    ]
                    if serve_all:
                        prize -= stop.job.priority * scale
                clients.append(
                    Client(
                        n_depots + i,
                        delivery=delivery,
                        service_duration=stop.duration,
                        tw_early=stop.window.start,
                        tw_late=stop.window.end,
                        prize=prize,
                        required=stop.required or (serve_all and stop.group is None),
                        group=stop.group,
                    )
                )
            groups = []
            for required, members in groups_spec:
                group = ClientGroup([], required=required or serve_all)
                for member in members:
                    group.add_client(member)
                groups.append(group)
            return clients, groups

        vehicle_types = []
        for t, group in enumerate(self.types):
            first = group[0]
            capacity = [first.capacity.get(d, 0) for d in dimensions] + [tool_need[t2] for t2 in tool_dims]
            initial = [first.capacity.get(d, 0) - first.starting_stock(d) for d in dimensions] + [
                0 if t2 in first.tools else tool_need[t2] for t2 in tool_dims
            ]
            reload = depot is not None and (any(initial) or self._uses_up_stock(first, eligible[first.id], dimensions))
            extra = {}
            if first.max_working_time is not None:
                extra["shift_duration"] = first.max_working_time
            vehicle_types.append(
                VehicleType(
                    num_available=len(group),
                    capacity=capacity,
                    start_depot=type_depots[t][0],
                    end_depot=type_depots[t][1],
                    fixed_cost=objective.engineer_cost,
                    tw_early=first.shift.start,
                    tw_late=first.shift.end,
                    unit_distance_cost=1,
                    unit_duration_cost=objective.working_time_cost,
                    profile=type_profile[t],
                    initial_load=initial,
                    reload_depots=[0] if reload else [],
                    max_reloads=depot.max_visits if reload else 0,
                    name=first.id,
                    **extra,
                )
            )
        locations = [Location(0, 0) for _ in range(n_locations)]
        clients, groups = clients_and_groups(serve_all=False)
        self.data = ProblemData(locations, clients, depots, vehicle_types, cost_matrices, duration_matrices, groups)
        # Serving every job is worth a first try unless there is plainly more work than working time.
        work = sum(stop.job.duration for stop in stops if stop.job is not None and stop.group is None)
        work += sum(min(stops[m].duration for m in members) for _required, members in groups_spec)
        work += sum(stop.duration for stop in stops if stop.kind == VisitKind.BREAK)
        self.data_all = None
        if work <= sum(r.shift.end - r.shift.start for r in resources):
            clients, groups = clients_and_groups(serve_all=True)
            self.data_all = self.data.replace(clients=clients, groups=groups)

    def _uses_up_stock(self, resource: Resource, allowed_stops: frozenset[int], dimensions: list[str]) -> bool:
        for d in dimensions:
            need = sum(self.stops[i].job.demand.get(d, 0) for i in allowed_stops if self.stops[i].job is not None)
            if need > resource.starting_stock(d):
                return True
        return False

    def routes_of(self, solution) -> list[tuple[list[_Stop | Depot], Resource]]:
        handed: dict[int, int] = {}
        out = []
        for route in solution.routes():
            t = route.vehicle_type()
            k = handed.get(t, 0)
            handed[t] = k + 1
            resource = self.types[t][k]
            schedule = route.schedule()
            stops: list[_Stop | Depot] = []
            for activity in schedule[1:-1]:
                if activity.is_client():
                    stops.append(self.stops[activity.idx])
                elif activity.is_depot():
                    stops.append(self.depot)
            out.append((stops, resource))
        return out
