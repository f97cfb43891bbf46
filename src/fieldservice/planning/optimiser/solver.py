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

Code layout: prepare.py (who may do what, job copies per window, the reasons people read), pyvrp_model.py
(the PyVRP ProblemData and the way back from its solution), routes.py (timing, repairing and checking
routes; `check_plan`), and this module (the search and `solve`).

The plan returned is timed from the travel matrix itself and checked before it is returned (skills,
tools, stock, windows, shifts, pins, breaks); a visit the check rejects is dropped with a reason
(this only happens when the search found no feasible plan in time, or around a break that does not
fit where the search put it). `check_plan` walks a finished plan again independently of the solver.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils.translation import gettext as _

from fieldservice.core.errors import DomainError

from .model import Job, Plan, Problem, Progress, Resource, Route, SkippedResource, TimeWindow, Unplannable
from .prepare import (
    _drop_pin_clashes,
    _make_stops,
    _Places,
    _points,
    _qualifies,
    _reachable,
    _reason,
    _unplannable,
)
from .pyvrp_model import _Model
from .routes import PlanCheckError, _repair, _verify, check_plan
from .travel import TravelSource, default_source

__all__ = ["PlanCheckError", "check_plan", "solve"]


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
        self.stop_when_feasible = False  # end this phase at the first feasible plan
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
        if self.stop_when_feasible and self.best_cost is not None:
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


def _search_params(data, *, improving: bool = False):
    from pyvrp import SolveParams
    from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
    from pyvrp.search import NeighbourhoodParams, PerturbationParams

    # Measured on the benches (bench/): in runs of 10-30 s a shorter late-acceptance history than PyVRP's
    # default (made for long runs) does better. With one or two kinds of vehicle (Solomon) PyVRP's
    # perturbation and neighbourhood sizes are best; with many different engineers (own homes, skills,
    # stock: the TRSP, and real teams) every local search pass costs more, and smaller perturbations
    # with a narrower neighbourhood make several times more iterations and find a feasible plan sooner.
    # Once one is found (`improving`), a wider neighbourhood and larger perturbations improve it better
    # despite fewer iterations.
    many_kinds = data.num_vehicle_types > 2
    neighbours, perturbations = (25, 8) if many_kinds and not improving else (50, 25)
    if many_kinds and improving:
        neighbours, perturbations = 40, 12
    return SolveParams(
        ils=IteratedLocalSearchParams(history_length=100),
        neighbourhood=NeighbourhoodParams(num_neighbours=neighbours),
        perturbation=PerturbationParams(min_perturbations=1, max_perturbations=perturbations),
    )


def _search(model: _Model, stopper: _Stopper, seed: int):
    """Serve everything if possible (required jobs; PyVRP's penalties push hard towards a feasible plan);
    when that finds none in half the time, or cannot be (more work than working time), plan the optional
    jobs by prize, starting from where the first phase stopped."""
    from pyvrp import Route as PyRoute
    from pyvrp import Solution
    from pyvrp import solve as pyvrp_solve

    params = _search_params(model.data)
    improving = _search_params(model.data, improving=True)
    start = None
    if model.data_all is not None:
        stopper.give_up_at = 0.5
        stopper.stop_when_feasible = improving != params
        result = pyvrp_solve(model.data_all, stopper, seed=seed, collect_stats=False, display=False, params=params)
        stopper.give_up_at = None
        stopper.stop_when_feasible = False
        if result.best.is_feasible() and not stopper.exhausted and improving != params:
            result = pyvrp_solve(
                model.data_all,
                stopper,
                seed=seed + 2,
                collect_stats=False,
                display=False,
                params=improving,
                initial_solution=result.best,
            )
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
