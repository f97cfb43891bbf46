"""The PyVRP model of a prepared problem (see solver.py for how the planning input maps onto it)."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from .model import Depot, Resource, VisitKind
from .prepare import _Stop
from .travel import UNREACHABLE

# PyVRP warns above 2**44 for matrix entries; stay well below so that sums cannot overflow.
_MAX_ENTRY = 1 << 40


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
