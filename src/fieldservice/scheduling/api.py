"""HTTP API of the scheduling app (under /api/v1/): visits (list, schedule, move) and absences.

A move made from an old copy of the visit (`version`) is 409 "stale"; a slot that breaks a rule
(skill, overlap, shift, absence) is 422 naming the field, like any other invalid value."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.scheduling import selectors, services
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Absence, Visit
from fieldservice.scheduling.permissions import may_manage_schedules, may_schedule
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["scheduling"])


class VisitOut(Schema):
    id: int
    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str | None
    engineer: int | None = Field(validation_alias="engineer_id")
    engineer_name: str | None
    window_start: datetime | None
    window_end: datetime | None
    planned_start: datetime
    planned_end: datetime
    duration_minutes: int
    is_pinned: bool
    status: str
    note: str
    version: int

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number

    @staticmethod
    def resolve_engineer_name(obj) -> str | None:
        return str(obj.engineer) if obj.engineer_id else None


class ScheduleIn(StrictSchema):
    __model__ = Visit
    planned_start: datetime
    duration_minutes: Int32 | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    is_pinned: bool = False
    note: str = ""
    version: Int32 | None = None


class VisitMoveIn(StrictSchema):
    __columns__ = {"reason": (Visit, "note")}
    engineer: Id
    planned_start: datetime
    version: Int32
    duration_minutes: Int32 | None = None
    reason: str = ""


class AbsenceOut(Schema):
    id: int
    engineer: int = Field(validation_alias="engineer_id")
    engineer_name: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    note: str
    created_at: datetime

    @staticmethod
    def resolve_engineer_name(obj) -> str:
        return str(obj.engineer)


class AbsenceCreatedOut(AbsenceOut):
    affected_visits: list[VisitOut]

    @staticmethod
    def resolve_affected_visits(obj) -> list:
        return selectors.visits_overlapping(obj.engineer, obj.starts_at, obj.ends_at)


class AbsenceIn(StrictSchema):
    __model__ = Absence
    engineer: Id
    kind: str = "leave"
    starts_at: datetime
    ends_at: datetime
    note: str = ""


class AbsenceUpdateIn(StrictSchema):
    __model__ = Absence
    kind: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    note: str | None = None


def _not_found(field: str, pk) -> ValidationError:
    return field_error(field, _("No %(field)s with id %(id)s.") % {"field": field, "id": pk}, "does_not_exist")


def _engineer(user, pk: int):
    engineer = selectors.schedulable_engineers(user).filter(pk=pk).first()
    if engineer is None:
        raise _not_found("engineer", pk)
    return engineer


# Visits -----------------------------------------------------------------------------------------------


@router.get("/visits", response=list[VisitOut])
@paginate(PageNumberPagination, page_size=50)
def list_visits(
    request,
    start: datetime | None = None,
    end: datetime | None = None,
    engineer: Id | None = None,
    status: str | None = None,
):
    """The visits of the orders the caller may see, starting in [start, end)."""
    visits = selectors.visits_for(request.user)
    if start is not None:
        visits = visits.filter(planned_start__gte=start)
    if end is not None:
        visits = visits.filter(planned_start__lt=end)
    if engineer is not None:
        visits = visits.filter(engineer_id=engineer)
    if status:
        if status not in VisitStatus.values:
            raise field_error("status", _("Unknown status."), "invalid_choice")
        visits = visits.filter(status=status)
    return visits.order_by("planned_start", "pk")


@router.get("/visits/{int:visit_id}", response=VisitOut)
def get_visit(request, visit_id: Id):
    return selectors.get_visit_for(request.user, visit_id)


@router.post("/work-orders/{int:order_id}/visit", response=VisitOut)
def schedule_order_visit(request, order_id: Id, payload: ScheduleIn):
    """Plan (or change) the order's visit. Sending `version` refuses it (409) if the visit changed."""
    order = get_work_order_for(request.user, order_id)
    visit = services.schedule_visit(order, actor=request.user, **payload.dict())
    return selectors.get_visit_for(request.user, visit.pk)


@router.post("/visits/{int:visit_id}/move", response=VisitOut)
def move_visit(request, visit_id: Id, payload: VisitMoveIn):
    visit = selectors.get_visit_for(request.user, visit_id)
    require(may_schedule(request.user))
    engineer = _engineer(request.user, payload.engineer)
    moved = services.move_visit(
        visit,
        actor=request.user,
        engineer=engineer,
        planned_start=payload.planned_start,
        version=payload.version,
        duration_minutes=payload.duration_minutes,
        reason=payload.reason,
    )
    return selectors.get_visit_for(request.user, moved.pk)


# Absences ---------------------------------------------------------------------------------------------


@router.get("/absences", response=list[AbsenceOut])
@paginate(PageNumberPagination, page_size=50)
def list_absences(request, engineer: Id | None = None, start: datetime | None = None, end: datetime | None = None):
    """Schedulers: every engineer's absences; an engineer: his own. Those overlapping [start, end)."""
    absences = selectors.absences_for(request.user)
    if engineer is not None:
        absences = absences.filter(engineer_id=engineer)
    if start is not None:
        absences = absences.filter(ends_at__gt=start)
    if end is not None:
        absences = absences.filter(starts_at__lt=end)
    return absences.order_by("starts_at", "pk")


@router.get("/absences/{int:absence_id}", response=AbsenceOut)
def get_absence(request, absence_id: Id):
    return selectors.get_absence_for(request.user, absence_id)


@router.post("/absences", response={201: AbsenceCreatedOut})
@idempotent
def create_absence(request, payload: AbsenceIn):
    """Create an absence; `affected_visits` lists the planned visits it overlaps (not moved)."""
    require(may_manage_schedules(request.user))
    data = payload.dict()
    data["engineer"] = _engineer(request.user, data["engineer"])
    return 201, services.create_absence(actor=request.user, **data)


@router.patch("/absences/{int:absence_id}", response=AbsenceCreatedOut)
def update_absence(request, absence_id: Id, payload: AbsenceUpdateIn):
    absence = selectors.get_absence_for(request.user, absence_id)
    require(may_manage_schedules(request.user))
    values = {
        "kind": absence.kind,
        "starts_at": absence.starts_at,
        "ends_at": absence.ends_at,
        "note": absence.note,
    }
    values.update(payload.dict(exclude_unset=True))
    return services.update_absence(absence, actor=request.user, **values)


@router.delete("/absences/{int:absence_id}", response={204: None})
def delete_absence(request, absence_id: Id):
    absence = selectors.get_absence_for(request.user, absence_id)
    services.delete_absence(absence, actor=request.user)
    return 204, None
