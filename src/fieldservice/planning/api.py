"""HTTP API of the planning app (under /api/v1/): start an optimisation run, read its status, progress and
proposal, cancel it, discard or apply its proposal. Only our dispatchers; another company's run is a 404."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.planning import selectors, services
from fieldservice.planning.permissions import may_plan

router = Router(tags=["planning"])


class PlanningRunIn(StrictSchema):
    day: date
    team: Id | None = None
    area: Id | None = None
    time_budget_seconds: Int32 = 10


class PlanningRunOut(Schema):
    id: int
    team: int | None = Field(validation_alias="team_id")
    area: int | None = Field(validation_alias="area_id")
    day: date
    time_budget_seconds: int
    status: str
    progress: int
    cancel_requested: bool
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    applied_at: datetime | None
    proposal: dict


def _require(request) -> None:
    require(may_plan(request.user))


@router.get("/planning/runs", response=list[PlanningRunOut])
@paginate(PageNumberPagination, page_size=50)
def list_runs(request):
    _require(request)
    return selectors.runs_for(request.user)


@router.post("/planning/runs", response={201: PlanningRunOut})
@idempotent
def start_run(request, payload: PlanningRunIn):
    _require(request)
    run = services.start_run(
        actor=request.user,
        day=payload.day,
        team=payload.team,
        area=payload.area,
        time_budget_seconds=payload.time_budget_seconds,
    )
    run.refresh_from_db()  # the immediate task backend may have run it already
    return 201, run


@router.get("/planning/runs/{int:run_id}", response=PlanningRunOut)
def get_run(request, run_id: Id):
    run = selectors.get_run_for(request.user, run_id)
    _require(request)
    return run


def _act(request, run_id: Id, action):
    run = selectors.get_run_for(request.user, run_id)
    if not may_plan(request.user):
        raise PermissionDenied
    return action(run, actor=request.user)


@router.post("/planning/runs/{int:run_id}/cancel", response=PlanningRunOut)
def cancel_run(request, run_id: Id):
    return _act(request, run_id, services.cancel_run)


@router.post("/planning/runs/{int:run_id}/discard", response=PlanningRunOut)
def discard_run(request, run_id: Id):
    return _act(request, run_id, services.discard_run)


@router.post("/planning/runs/{int:run_id}/apply", response=PlanningRunOut)
def apply_run(request, run_id: Id):
    return _act(request, run_id, services.apply_run)
