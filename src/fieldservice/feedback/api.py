"""HTTP API for evaluations and call backs (under /api/v1/). The customer's own evaluation,
sent through the follow link without signing in, is in `portal.api`."""

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.selectors import get_engineer_for
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema
from fieldservice.core.errors import require
from fieldservice.feedback import selectors, services
from fieldservice.feedback.models import Evaluation
from fieldservice.feedback.permissions import may_call_back

router = Router(tags=["feedback"])


def _internal(context) -> bool:
    return bool(context and context["request"].user.is_own_staff)


class EvaluationOut(Schema):
    id: int
    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str
    customer: int
    customer_name: str
    overall: int
    timeliness: int
    attitude: int
    quality: int
    comment: str
    submitted_at: datetime
    needs_callback: bool
    callback_result: str
    callback_by: int | None
    callback_at: datetime | None

    @staticmethod
    def resolve_work_order_number(obj) -> str:
        return obj.work_order.number or ""

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.work_order.customer_id

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.work_order.customer.name

    # What the desk did about the answer is internal: customers and partners see only their answer.
    @staticmethod
    def resolve_needs_callback(obj, context) -> bool:
        return obj.needs_callback if _internal(context) else False

    @staticmethod
    def resolve_callback_result(obj, context) -> str:
        return obj.callback_result if _internal(context) else ""

    @staticmethod
    def resolve_callback_by(obj, context) -> int | None:
        return obj.callback_by_id if _internal(context) else None

    @staticmethod
    def resolve_callback_at(obj, context) -> datetime | None:
        return obj.callback_at if _internal(context) else None


class CallbackIn(StrictSchema):
    __columns__ = {"result": (Evaluation, "callback_result")}
    result: str


class EngineerScoreOut(Schema):
    engineer: int
    user: int
    average: float | None
    count: int


@router.get("/evaluations", response=list[EvaluationOut], summary="Evaluations of the work orders you may see")
@paginate(PageNumberPagination, page_size=50)
def list_evaluations(
    request,
    customer: Id | None = None,
    engineer: Id | None = None,
    needs_callback: bool | None = None,
    callback_due: bool = False,
    max_overall: Annotated[int, Field(ge=1, le=5)] | None = None,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
):
    """`engineer` is the lead engineer's user id; `callback_due=true` lists the call backs still to make."""
    evaluations = selectors.callbacks_due_for(request.user) if callback_due else selectors.evaluations_for(request.user)
    return selectors.filter_evaluations(
        evaluations,
        customer=customer,
        engineer=engineer,
        needs_callback=needs_callback,
        max_overall=max_overall,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
    )


@router.get("/evaluations/{int:evaluation_id}", response=EvaluationOut)
def get_evaluation(request, evaluation_id: Id):
    return selectors.get_evaluation_for(request.user, evaluation_id)


@router.post("/evaluations/{int:evaluation_id}/callback", response=EvaluationOut, summary="Record a call back")
def record_callback(request, evaluation_id: Id, payload: CallbackIn):
    evaluation = selectors.get_evaluation_for(request.user, evaluation_id)
    require(may_call_back(request.user))
    services.record_callback(evaluation, actor=request.user, result=payload.result)
    return selectors.get_evaluation_for(request.user, evaluation_id)


@router.get(
    "/engineers/{int:engineer_id}/score",
    response=EngineerScoreOut,
    summary="An engineer's average overall rating as lead engineer",
)
def engineer_score(request, engineer_id: Id):
    """`engineer_id` is the engineer's id as in /engineers; `average` is null before any evaluation."""
    profile = get_engineer_for(request.user, engineer_id)
    score = selectors.engineer_scores([profile.user_id]).get(profile.user_id)
    return {
        "engineer": profile.pk,
        "user": profile.user_id,
        "average": round(score.average, 2) if score else None,
        "count": score.count if score else 0,
    }
