"""The planning input prepared for the search: who may do which job, in which windows, and why a job is
left out (the reasons people read); the stops (job copies per window, breaks) the PyVRP model is built on."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .model import Depot, Job, Problem, Resource, TimeWindow, Unplannable, VisitKind
from .travel import UNREACHABLE, TravelMatrix

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


REASON_CODES = frozenset(
    {
        "no_location",
        "no_engineer",
        "no_window",
        "pin_unknown",
        "pin_not_qualified",
        "pin_unreachable",
        "pin_conflict",
        "not_fitted",
        "no_home",
    }
)


def reason(code: str) -> str:
    """The reason for `code` in the active language (a run keeps codes; pages translate them)."""
    return _reason(code)


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
