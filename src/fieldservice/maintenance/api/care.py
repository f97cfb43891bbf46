"""HTTP API of customer care (under /api/v1/maintenance/care/).

Plans are read and written by care managers (MANAGE_CARE); anyone else gets 404s. The status is
read-only: it moves by verbs (POST .../activate, .../run, .../close, .../invalidate). A task (a call
or a visit) is listed to its assignee (/care/tasks) and its outcome recorded by him or a manager."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.maintenance.models.care import CarePlan, CareTouch
from fieldservice.maintenance.selectors import care as selectors
from fieldservice.maintenance.services import care as services

router = Router(tags=["maintenance"])


class EffectOut(Schema):
    touched: int
    done: int
    responses: int
    leads: int
    requests_raised: int
    requests: int
    cost: Decimal
    cost_per_response: Decimal | None


class CarePlanOut(Schema):
    id: int
    name: str
    status: str
    occasion: str
    occasion_note: str
    method: str
    target_tiers: list[str]
    target_kinds: list[str]
    target_industry: str
    chosen: bool
    subject: str
    body: str
    currency: str
    budget: Decimal
    actual_cost: Decimal
    starts_on: date
    ends_on: date | None
    effect_days: int
    invalid_reason: str
    run_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    effect: EffectOut

    @staticmethod
    def resolve_effect(obj) -> EffectOut:
        effect = selectors.effect_from(obj) if hasattr(obj, "effect_touched") else selectors.effect_of(obj)
        return EffectOut(**{**effect.__dict__, "cost_per_response": effect.cost_per_response})


class CarePlanDetailOut(CarePlanOut):
    customers: list[int]
    participants: list[int]

    @staticmethod
    def resolve_customers(obj) -> list[int]:
        return list(obj.customers.order_by("pk").values_list("pk", flat=True))

    @staticmethod
    def resolve_participants(obj) -> list[int]:
        return list(obj.participants.order_by("pk").values_list("pk", flat=True))


class CareTouchOut(Schema):
    id: int
    plan: int = Field(validation_alias="plan_id")
    plan_name: str
    customer: int = Field(validation_alias="customer_id")
    customer_name: str
    contact: int | None = Field(validation_alias="contact_id")
    method: str
    status: str
    assignee: int | None = Field(validation_alias="assignee_id")
    to_name: str
    to_phone: str
    to_email: str
    subject: str
    body: str
    outcome: str
    outcome_note: str
    done_at: datetime | None
    touched_at: datetime

    @staticmethod
    def resolve_plan_name(obj) -> str:
        return obj.plan.name

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class CarePlanPatch(StrictSchema):
    __model__ = CarePlan
    name: str | None = None
    occasion: str | None = None
    occasion_note: str | None = None
    method: str | None = None
    target_tiers: list[str] | None = Field(None, max_length=10)
    target_kinds: list[str] | None = Field(None, max_length=10)
    target_industry: str | None = None
    chosen: bool | None = None
    customers: list[Id] | None = Field(None, max_length=services.MAX_CHOSEN)
    subject: str | None = None
    body: str | None = None
    participants: list[Id] | None = Field(None, max_length=200)
    currency: str | None = None
    budget: Decimal | str | None = None
    actual_cost: Decimal | str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    effect_days: Int32 | None = None


class CarePlanIn(CarePlanPatch):
    name: str
    occasion: str
    starts_on: date


class CarePlanInvalidateIn(StrictSchema):
    __columns__ = {"reason": (CarePlan, "invalid_reason")}
    reason: str


class OutcomeIn(StrictSchema):
    __columns__ = {"note": (CareTouch, "outcome_note")}
    outcome: str = Field(..., max_length=10)
    note: str = ""


class RunOut(Schema):
    created: int
    tasks: int
    messages: int
    letters: int
    skipped: int
    plan: CarePlanOut


def _values(payload: CarePlanPatch, *, partial: bool) -> dict:
    values = payload.model_dump(exclude_unset=True)
    if not partial:
        values = {name: value for name, value in values.items() if value is not None or name == "ends_on"}
    return values


@router.get("/care/plans", response=list[CarePlanOut])
@paginate(PageNumberPagination, page_size=50)
def list_care_plans(request, q: str = "", status: str = "", method: str = "", occasion: str = ""):
    """Care plans with their effect, newest start first (care managers only)."""
    plans = selectors.filter_care_plans(
        selectors.care_plans_for(request.user), q=q, status=status[:10], method=method[:10], occasion=occasion[:20]
    )
    return selectors.with_effect(plans).order_by("-starts_on", "-pk")


@router.post("/care/plans", response={201: CarePlanDetailOut})
@idempotent
def create_care_plan(request, payload: CarePlanIn):
    selectors.care_plans_for(request.user)  # 404 for anyone who is not a care manager
    return 201, services.create_care_plan(actor=request.user, **_values(payload, partial=False))


@router.get("/care/plans/{int:plan_id}", response=CarePlanDetailOut)
def get_care_plan(request, plan_id: Id):
    return selectors.get_care_plan_for(request.user, plan_id)


@router.patch("/care/plans/{int:plan_id}", response=CarePlanDetailOut)
def update_care_plan(request, plan_id: Id, payload: CarePlanPatch):
    plan = selectors.get_care_plan_for(request.user, plan_id)
    return services.update_care_plan(plan, actor=request.user, **_values(payload, partial=True))


@router.post("/care/plans/{int:plan_id}/activate", response=CarePlanDetailOut)
def activate_care_plan(request, plan_id: Id):
    return services.activate_care_plan(selectors.get_care_plan_for(request.user, plan_id), actor=request.user)


@router.post("/care/plans/{int:plan_id}/run", response=RunOut)
def run_care_plan(request, plan_id: Id):
    """Touch every targeted customer not touched yet; a second run touches nobody twice."""
    plan = selectors.get_care_plan_for(request.user, plan_id)
    summary = services.run_care_plan(plan, actor=request.user)
    return {**summary.__dict__, "plan": selectors.get_care_plan_for(request.user, plan_id)}


@router.post("/care/plans/{int:plan_id}/close", response=CarePlanDetailOut)
def close_care_plan(request, plan_id: Id):
    return services.close_care_plan(selectors.get_care_plan_for(request.user, plan_id), actor=request.user)


@router.post("/care/plans/{int:plan_id}/invalidate", response=CarePlanDetailOut)
def invalidate_care_plan(request, plan_id: Id, payload: CarePlanInvalidateIn):
    plan = selectors.get_care_plan_for(request.user, plan_id)
    return services.invalidate_care_plan(plan, actor=request.user, reason=payload.reason)


@router.get("/care/plans/{int:plan_id}/touches", response=list[CareTouchOut])
@paginate(PageNumberPagination, page_size=50)
def list_care_touches(request, plan_id: Id):
    return selectors.touches_of(request.user, selectors.get_care_plan_for(request.user, plan_id)).select_related("plan")


@router.get("/care/tasks", response=list[CareTouchOut])
@paginate(PageNumberPagination, page_size=50)
def list_my_care_tasks(request, open: bool = False):  # noqa: A002 - the query parameter's name
    """The calls and visits assigned to the caller."""
    return selectors.care_tasks_for(request.user, open_only=open)


@router.get("/care/touches/{int:touch_id}", response=CareTouchOut)
def get_care_touch(request, touch_id: Id):
    return selectors.get_touch_for(request.user, touch_id)


@router.post("/care/touches/{int:touch_id}/outcome", response=CareTouchOut)
def record_care_outcome(request, touch_id: Id, payload: OutcomeIn):
    touch = selectors.get_touch_for(request.user, touch_id)
    return services.record_care_outcome(touch, actor=request.user, outcome=payload.outcome, note=payload.note)
