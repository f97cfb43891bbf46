"""HTTP API for dispatch: suggested engineers, giving orders to engineers and providers, and
the engineers' (and provider admins') answers. Mounted under /api/v1/."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.choices import Role
from fieldservice.accounts.permissions import Capability, can
from fieldservice.accounts.selectors import providers_for, users_for
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.dispatch.assignments import selectors, services
from fieldservice.dispatch.models import Assignment
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["dispatch"])


class AssignmentOut(Schema):
    id: int
    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str | None
    work_order_status: str
    engineer: int | None = Field(validation_alias="engineer_id")
    engineer_name: str | None
    provider: int | None = Field(validation_alias="provider_id")
    provider_name: str | None
    role: str
    status: str
    reason: str
    assigned_by: int | None = Field(validation_alias="assigned_by_id")
    assigned_at: datetime
    responded_at: datetime | None

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number

    @staticmethod
    def resolve_work_order_status(obj) -> str:
        return obj.work_order.status

    @staticmethod
    def resolve_engineer_name(obj) -> str | None:
        return str(obj.engineer) if obj.engineer_id else None

    @staticmethod
    def resolve_provider_name(obj) -> str | None:
        return obj.provider.name if obj.provider_id else None


def order_assignments(order) -> list[Assignment]:
    """The `assignments` of the work order API's detail (`workorders.hooks.on_order_detail`)."""
    return list(order.assignments.select_related("work_order", "engineer", "provider"))


class MissingPartOut(Schema):
    part_number: str
    quantity: Decimal


class CandidateOut(Schema):
    engineer: int
    name: str
    organisation: int | None
    organisation_name: str | None
    team: str | None
    is_suitable: bool
    has_skill: bool
    skill_level: int | None
    covers_area: bool
    on_duty: bool
    availability: str
    open_orders: int
    distance_km: float | None
    reasons: list[str]
    # Whether his van holds the order's needed parts: "all", "some", "none" ("" when none listed).
    parts: str
    missing_parts: list[MissingPartOut]

    @staticmethod
    def resolve_missing_parts(obj) -> list[dict]:
        return [{"part_number": number, "quantity": quantity} for number, quantity in obj.missing]

    @staticmethod
    def resolve_engineer(obj) -> int:
        return obj.engineer.pk

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj.engineer)

    @staticmethod
    def resolve_organisation(obj) -> int | None:
        return obj.engineer.organisation_id

    @staticmethod
    def resolve_organisation_name(obj) -> str | None:
        return obj.engineer.organisation.name if obj.engineer.organisation_id else None

    @staticmethod
    def resolve_team(obj) -> str | None:
        return obj.profile.team.name if obj.profile.team_id else None

    @staticmethod
    def resolve_availability(obj) -> str:
        return obj.profile.availability

    @staticmethod
    def resolve_reasons(obj) -> list[str]:
        """Why the engineer is not suitable, in words; empty when suitable."""
        reasons = []
        if not obj.has_skill:
            reasons.append(_("lacks the skill"))
        if not obj.covers_area:
            reasons.append(_("outside their area"))
        if not obj.on_duty:
            reasons.append(_("off duty"))
        return reasons


class DispatchIn(StrictSchema):
    engineer: Id | None = None
    provider: Id | None = None
    note: str = ""


class EngineerIn(StrictSchema):
    engineer: Id


class ReassignIn(StrictSchema):
    __model__ = Assignment
    engineer: Id
    reason: str


class AssignmentReasonIn(StrictSchema):
    __model__ = Assignment
    reason: str


# An id the user cannot see is reported on its field like any other bad value (422).


def _lookup(queryset, pk, field: str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise field_error(field, _("No %(field)s with id %(id)s.") % {"field": field, "id": pk}, "does_not_exist")
    return obj


def _engineer(user, pk: int):
    return _lookup(users_for(user).filter(roles__role=Role.ENGINEER).distinct(), pk, "engineer")


def _assignment_out(user, assignment):
    # Read back through the selector: the answer shows the order's new status too.
    return selectors.get_assignment_for(user, assignment.pk)


# Dispatchers


@router.get("/work-orders/{int:order_id}/candidates", response=list[CandidateOut])
def list_candidates(request, order_id: Id, limit: Int32 = 20):
    order = get_work_order_for(request.user, order_id)
    require(may_dispatch(request.user))
    return selectors.candidates_for(order, request.user, limit=max(1, min(limit, 100)))


@router.post("/work-orders/{int:order_id}/dispatch", response={201: AssignmentOut})
@idempotent
def dispatch_order(request, order_id: Id, payload: DispatchIn):
    order = get_work_order_for(request.user, order_id)
    require(may_dispatch(request.user))
    if (payload.engineer is None) == (payload.provider is None):
        message = _("Give either an engineer or a service provider, not both.")
        raise ValidationError(
            {
                "engineer": ValidationError(message, code="one_of"),
                "provider": ValidationError(message, code="one_of"),
            }
        )
    if payload.engineer is not None:
        engineer = _engineer(request.user, payload.engineer)
        assignment = services.dispatch_to_engineer(order, actor=request.user, engineer=engineer, note=payload.note)
    else:
        provider = _lookup(providers_for(request.user), payload.provider, "provider")
        assignment = services.dispatch_to_provider(order, actor=request.user, provider=provider, note=payload.note)
    return 201, assignment


@router.post("/work-orders/{int:order_id}/reassign", response={201: AssignmentOut})
@idempotent
def reassign_order(request, order_id: Id, payload: ReassignIn):
    order = get_work_order_for(request.user, order_id)
    require(may_dispatch(request.user))
    engineer = _engineer(request.user, payload.engineer)
    return 201, services.reassign(order, actor=request.user, engineer=engineer, reason=payload.reason)


@router.post("/work-orders/{int:order_id}/helpers", response={201: AssignmentOut})
@idempotent
def add_helper(request, order_id: Id, payload: EngineerIn):
    order = get_work_order_for(request.user, order_id)
    require(may_dispatch(request.user))
    engineer = _engineer(request.user, payload.engineer)
    return 201, services.add_helper(order, actor=request.user, engineer=engineer)


# Engineers and provider admins


@router.get("/assignments", response=list[AssignmentOut])
@paginate(PageNumberPagination, page_size=50)
def list_my_assignments(request, status: str = ""):
    """The caller's own assignments; for a provider admin also those given to their company."""
    user = request.user
    mine = Q(engineer=user)
    if can(user, Capability.ASSIGN_PROVIDER_ENGINEERS) and user.organisation_id:
        mine |= selectors.held_by_provider(user.organisation_id)
    assignments = selectors.assignments_for(user).filter(mine).order_by("-assigned_at", "-pk")
    if status:
        assignments = assignments.filter(status=status)
    return assignments


@router.post("/assignments/{int:assignment_id}/accept", response=AssignmentOut)
def accept_assignment(request, assignment_id: Id):
    assignment = selectors.get_assignment_for(request.user, assignment_id)
    return _assignment_out(request.user, services.accept_assignment(assignment, actor=request.user))


@router.post("/assignments/{int:assignment_id}/reject", response=AssignmentOut)
def reject_assignment(request, assignment_id: Id, payload: AssignmentReasonIn):
    assignment = selectors.get_assignment_for(request.user, assignment_id)
    services.reject_assignment(assignment, actor=request.user, reason=payload.reason)
    # The rejecting engineer no longer sees the order, so no read-back through the selector.
    assignment.refresh_from_db()
    assignment.work_order.refresh_from_db()
    return assignment


@router.post("/assignments/{int:assignment_id}/revoke", response=AssignmentOut)
def revoke_assignment(request, assignment_id: Id, payload: AssignmentReasonIn):
    assignment = selectors.get_assignment_for(request.user, assignment_id)
    require(may_dispatch(request.user))
    services.revoke_assignment(assignment, actor=request.user, reason=payload.reason)
    return _assignment_out(request.user, assignment)


@router.post("/assignments/{int:assignment_id}/assign-engineer", response=AssignmentOut)
def assign_engineer(request, assignment_id: Id, payload: EngineerIn):
    assignment = selectors.get_assignment_for(request.user, assignment_id)
    require(can(request.user, Capability.ASSIGN_PROVIDER_ENGINEERS))
    engineer = _engineer(request.user, payload.engineer)
    services.assign_provider_engineer(assignment, actor=request.user, engineer=engineer)
    return _assignment_out(request.user, assignment)
