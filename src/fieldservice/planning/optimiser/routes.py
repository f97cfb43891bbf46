"""Timing and checking routes with the real travel: the plan is timed from the travel matrix, repaired where
the search left a rule broken, and walked again independently (`check_plan`) before it is handed out."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from .model import Depot, Plan, Problem, Resource, Route, TimeWindow, Visit, VisitKind
from .prepare import _Places, _points, _Stop
from .travel import UNREACHABLE, TravelSource, default_source


class PlanCheckError(AssertionError):
    """The optimiser produced a plan that breaks a hard rule (a bug, never an input problem)."""


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
