"""Day-plan optimisation: open orders and engineers in, routes out (see solver.py for the model).

from fieldservice.planning.optimiser import Job, Problem, Resource, TimeWindow, solve
plan = solve(Problem(jobs, engineers), time_limit=10)
"""

from .model import (
    Break,
    Depot,
    GeoPoint,
    Job,
    Objective,
    Pin,
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
from .solver import PlanCheckError, check_plan, solve
from .travel import ExplicitMatrix, GreatCircle, OsrmTable, TravelError, TravelMatrix, default_source

__all__ = [
    "Break",
    "Depot",
    "ExplicitMatrix",
    "GeoPoint",
    "GreatCircle",
    "Job",
    "Objective",
    "OsrmTable",
    "Pin",
    "Plan",
    "PlanCheckError",
    "Problem",
    "Progress",
    "Resource",
    "Route",
    "SkippedResource",
    "TimeWindow",
    "TravelError",
    "TravelMatrix",
    "Unplannable",
    "Visit",
    "VisitKind",
    "check_plan",
    "default_source",
    "solve",
]
