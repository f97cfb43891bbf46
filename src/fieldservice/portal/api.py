"""The customer's follow link in the API (under /api/v1/portal/). No sign-in: the follow
token in the path is the key, as on the follow page."""

from datetime import datetime
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from fieldservice.core.api import Id, StrictSchema
from fieldservice.feedback.models import Evaluation
from fieldservice.feedback.services import submit_evaluation
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import request_by_follow_token

router = Router(tags=["portal"])


class EvaluationIn(StrictSchema):
    __model__ = Evaluation
    # Any value is let through so the service names the field of a bad score (422).
    overall: Any = None
    timeliness: Any = None
    attitude: Any = None
    quality: Any = None
    comment: str = ""


class PublicEvaluationOut(Schema):
    """What the customer sent, no more: not whether we will call back."""

    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str
    overall: int
    timeliness: int
    attitude: int
    quality: int
    comment: str
    submitted_at: datetime

    @staticmethod
    def resolve_work_order_number(obj) -> str:
        return obj.work_order.number or ""


@router.post(
    "/portal/{token}/orders/{int:order_id}/evaluation",
    response={201: PublicEvaluationOut},
    auth=None,
    summary="The customer rates a finished work order (follow link; no sign-in)",
)
def submit_order_evaluation(request, token: str, order_id: Id, payload: EvaluationIn):
    """409 when the order is not finished yet or was already rated; 422 names a bad score."""
    service_request = request_by_follow_token(token)
    order = get_object_or_404(WorkOrder, pk=order_id, request=service_request)
    evaluation = submit_evaluation(order, follow_token=service_request.follow_token, **payload.model_dump())
    return 201, evaluation
