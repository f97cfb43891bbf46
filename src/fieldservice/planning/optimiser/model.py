"""The planning input and output as plain data: no Django models, no solver types.

Times are whole seconds on one clock chosen by the caller (e.g. seconds since midnight of the plan's
day, or since the epoch); durations are seconds and distances metres. A benchmark may use any unit
as long as it is consistent: the optimiser only adds and compares the numbers.

A location is a `GeoPoint` (latitude/longitude, for travel estimated from coordinates or asked from
OSRM) or any hashable key that an explicit travel matrix knows (benches). `None` means the site has
no coordinates: such a job is reported as unplannable, the rest is planned.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "Break",
    "Depot",
    "GeoPoint",
    "Job",
    "Objective",
    "Pin",
    "Plan",
    "Problem",
    "Progress",
    "Resource",
    "Route",
    "SkippedResource",
    "TimeWindow",
    "Unplannable",
    "Visit",
    "VisitKind",
]

Point = Hashable


def _frozen_map(value: Mapping[str, int] | None, what: str) -> Mapping[str, int]:
    items = dict(value or {})
    for key, amount in items.items():
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise ValueError(f"{what}[{key!r}] must be a whole number >= 0, got {amount!r}")
    return MappingProxyType(items)


def _whole(value: Any, what: str, *, minimum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not -90 <= float(self.latitude) <= 90 or not -180 <= float(self.longitude) <= 180:
            raise ValueError(f"not a position on earth: {self.latitude}, {self.longitude}")
        object.__setattr__(self, "latitude", float(self.latitude))
        object.__setattr__(self, "longitude", float(self.longitude))


@dataclass(frozen=True)
class TimeWindow:
    """From `start` to `end` inclusive (for a job: when its work may start)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        _whole(self.start, "TimeWindow.start")
        _whole(self.end, "TimeWindow.end")
        if self.end < self.start:
            raise ValueError(f"time window ends before it starts: {self.start} > {self.end}")

    def __contains__(self, moment: int) -> bool:
        return self.start <= moment <= self.end


@dataclass(frozen=True)
class Pin:
    """A visit the dispatcher fixed: to this engineer, and (if given) starting at this moment."""

    resource_id: str
    start: int | None = None


@dataclass(frozen=True)
class Job:
    """One open order to place on a route.

    windows: when the work may start (several = any one of them); empty = any time in a shift.
    skills: skill -> minimum level. tools: tools the engineer must carry (not used up).
    demand: amounts used up per dimension (spare parts, van load), compared with `Resource.capacity`.
    priority: weight >= 1; when not everything fits, the plan keeps the highest total weight.
    sla_deadline: the work should end by then; finishing later is allowed but costs `Objective.late_cost`.
    """

    id: str
    location: Point | None
    duration: int = 0
    windows: tuple[TimeWindow, ...] = ()
    skills: Mapping[str, int] = field(default_factory=dict)
    tools: frozenset[str] = frozenset()
    demand: Mapping[str, int] = field(default_factory=dict)
    priority: int = 1
    sla_deadline: int | None = None
    pin: Pin | None = None

    def __post_init__(self) -> None:
        _whole(self.duration, f"Job {self.id}: duration", minimum=0)
        _whole(self.priority, f"Job {self.id}: priority", minimum=1)
        if self.sla_deadline is not None:
            _whole(self.sla_deadline, f"Job {self.id}: sla_deadline")
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "tools", frozenset(self.tools))
        object.__setattr__(self, "skills", _frozen_map(self.skills, f"Job {self.id}: skills"))
        object.__setattr__(self, "demand", _frozen_map(self.demand, f"Job {self.id}: demand"))
        pinned_at = self.pin.start if self.pin is not None else None
        if pinned_at is not None and self.windows and not any(pinned_at in window for window in self.windows):
            raise ValueError(f"Job {self.id}: the pinned start lies outside its time windows")


@dataclass(frozen=True)
class Break:
    """A pause of `duration` that must start within `window`, taken wherever the engineer is."""

    window: TimeWindow
    duration: int

    def __post_init__(self) -> None:
        _whole(self.duration, "Break.duration", minimum=1)


@dataclass(frozen=True)
class Resource:
    """An engineer for the day.

    start/end: home base (end defaults to start). shift: leave no earlier than its start, be back by its end.
    capacity: most he can carry per dimension (after a depot visit); a dimension he lacks counts 0.
    stock: what he carries when he sets out (defaults to capacity; at most capacity).
    """

    id: str
    start: Point | None
    shift: TimeWindow
    end: Point | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    tools: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=dict)
    stock: Mapping[str, int] | None = None
    breaks: tuple[Break, ...] = ()
    max_working_time: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tools", frozenset(self.tools))
        object.__setattr__(self, "breaks", tuple(self.breaks))
        object.__setattr__(self, "skills", _frozen_map(self.skills, f"Resource {self.id}: skills"))
        object.__setattr__(self, "capacity", _frozen_map(self.capacity, f"Resource {self.id}: capacity"))
        if self.stock is not None:
            stock = _frozen_map(self.stock, f"Resource {self.id}: stock")
            for key, amount in stock.items():
                if amount > self.capacity.get(key, 0):
                    raise ValueError(f"Resource {self.id}: stock of {key!r} exceeds its capacity")
            object.__setattr__(self, "stock", stock)
        if self.max_working_time is not None:
            _whole(self.max_working_time, f"Resource {self.id}: max_working_time", minimum=0)

    @property
    def end_location(self) -> Point | None:
        return self.start if self.end is None else self.end

    def starting_stock(self, dimension: str) -> int:
        if self.stock is None:
            return self.capacity.get(dimension, 0)
        return self.stock.get(dimension, 0)


@dataclass(frozen=True)
class Depot:
    """A store where an engineer may stop once to take every tool and refill his stock to capacity."""

    location: Point
    window: TimeWindow | None = None
    service: int = 0
    max_visits: int = 1


@dataclass(frozen=True)
class Objective:
    """What a plan costs, in whole cost units, after the served priority weight (which always comes first).

    travel_time_cost per second of driving, distance_cost per metre, working_time_cost per second from
    leaving home to coming back (waiting before the first visit is not counted: the engineer leaves later),
    engineer_cost per engineer with at least one visit, late_cost per job ending after its SLA deadline.
    """

    travel_time_cost: int = 1
    distance_cost: int = 0
    working_time_cost: int = 0
    engineer_cost: int = 0
    late_cost: int = 3600

    def __post_init__(self) -> None:
        for name in ("travel_time_cost", "distance_cost", "working_time_cost", "engineer_cost", "late_cost"):
            _whole(getattr(self, name), f"Objective.{name}", minimum=0)


@dataclass(frozen=True)
class Problem:
    jobs: tuple[Job, ...]
    resources: tuple[Resource, ...]
    depot: Depot | None = None
    objective: Objective = Objective()

    def __post_init__(self) -> None:
        object.__setattr__(self, "jobs", tuple(self.jobs))
        object.__setattr__(self, "resources", tuple(self.resources))
        for what, items in (("job", self.jobs), ("engineer", self.resources)):
            ids = [item.id for item in items]
            if len(set(ids)) != len(ids):
                raise ValueError(f"every {what} id must be unique")


class VisitKind:
    JOB = "job"
    DEPOT = "depot"
    BREAK = "break"


@dataclass(frozen=True)
class Visit:
    """One stop of a route. `travel_time`/`distance` lead from the previous place to this one."""

    kind: str
    job_id: str | None
    arrival: int
    start: int
    end: int
    travel_time: int
    distance: int
    lateness: int = 0

    @property
    def waiting(self) -> int:
        return self.start - self.arrival


@dataclass(frozen=True)
class Route:
    resource_id: str
    departure: int
    visits: tuple[Visit, ...]
    return_travel_time: int
    return_distance: int
    arrival: int

    @property
    def job_ids(self) -> list[str]:
        return [visit.job_id for visit in self.visits if visit.kind == VisitKind.JOB]

    @property
    def travel_time(self) -> int:
        return sum(visit.travel_time for visit in self.visits) + self.return_travel_time

    @property
    def distance(self) -> int:
        return sum(visit.distance for visit in self.visits) + self.return_distance

    @property
    def waiting(self) -> int:
        return sum(visit.waiting for visit in self.visits)

    @property
    def working_time(self) -> int:
        return self.arrival - self.departure

    @property
    def lateness(self) -> int:
        return sum(visit.lateness for visit in self.visits)


@dataclass(frozen=True)
class Unplannable:
    """A job left out of the plan: `code` is stable for programs, `reason` is translated for people."""

    job: Job
    code: str
    reason: str

    @property
    def job_id(self) -> str:
        return self.job.id


@dataclass(frozen=True)
class SkippedResource:
    resource_id: str
    code: str
    reason: str


@dataclass(frozen=True)
class Progress:
    elapsed: float
    time_limit: float
    iterations: int
    best_cost: int | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.elapsed / self.time_limit) if self.time_limit > 0 else 1.0


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...]
    unplanned: tuple[Unplannable, ...]
    skipped_resources: tuple[SkippedResource, ...] = ()
    warnings: tuple[str, ...] = ()
    cancelled: bool = False
    iterations: int = 0
    runtime: float = 0.0

    def route_for(self, resource_id: str) -> Route | None:
        return next((route for route in self.routes if route.resource_id == resource_id), None)

    @property
    def assignments(self) -> dict[str, str]:
        """job id -> engineer id for every planned job."""
        return {job_id: route.resource_id for route in self.routes for job_id in route.job_ids}

    @property
    def unplanned_ids(self) -> list[str]:
        return [item.job_id for item in self.unplanned]

    @property
    def travel_time(self) -> int:
        return sum(route.travel_time for route in self.routes)

    @property
    def distance(self) -> int:
        return sum(route.distance for route in self.routes)

    @property
    def working_time(self) -> int:
        return sum(route.working_time for route in self.routes)

    @property
    def lateness(self) -> int:
        return sum(route.lateness for route in self.routes)
