"""Customer evaluations of finished work orders and the agents' call backs on low scores."""

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.outbox import emit
from fieldservice.feedback.models import (
    CALLBACK_RESULT_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    MAX_SCORE,
    MIN_SCORE,
    SCORE_FIELDS,
    Evaluation,
)
from fieldservice.feedback.permissions import may_call_back
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.log import log_event

# Any score at or below this asks an agent to call the customer back.
CALLBACK_THRESHOLD = 2
EVALUABLE_STATUSES = frozenset({WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED})


def _check_scores(scores: dict) -> dict[str, int]:
    errors = {}
    cleaned = {}
    for name in SCORE_FIELDS:
        value = scores.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if value is None or value == "":
            errors[name] = ValidationError(_("Give a score from 1 to 5."), code="required")
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[name] = ValidationError(_("Give a whole number from 1 to 5."), code="invalid")
        elif not MIN_SCORE <= value <= MAX_SCORE:
            errors[name] = ValidationError(
                _("The score must be from %(min)d to %(max)d.") % {"min": MIN_SCORE, "max": MAX_SCORE},
                code="out_of_range",
            )
        else:
            cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _already_evaluated(order: WorkOrder) -> DomainError:
    message = _("Work order %(number)s has already been evaluated. Thank you!") % {"number": order.number}
    return DomainError("already_evaluated", message)


@transaction.atomic
def submit_evaluation(
    order: WorkOrder,
    *,
    follow_token: str,
    overall,
    timeliness,
    attitude,
    quality,
    comment: str = "",
) -> Evaluation:
    """The customer rates a completed (or closed) order of the request the follow link is for.
    One answer per order; the database's unique key decides between simultaneous answers."""
    order = WorkOrder.objects.select_related("request").get(pk=order.pk)
    if not secrets.compare_digest(order.request.follow_token, str(follow_token or "")):
        raise PermissionDenied(_("This link is not for this work order."))
    if order.status not in EVALUABLE_STATUSES:
        raise DomainError(
            "not_completed",
            _("Work order %(number)s is not finished yet; you can rate it once the work is done.")
            % {"number": order.number},
        )
    if Evaluation.objects.filter(work_order=order).exists():
        raise _already_evaluated(order)
    scores = _check_scores({"overall": overall, "timeliness": timeliness, "attitude": attitude, "quality": quality})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise field_error("comment", _("At most %(n)d characters.") % {"n": COMMENT_MAX_LENGTH}, "max_length")
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                work_order=order,
                comment=comment,
                needs_callback=any(score <= CALLBACK_THRESHOLD for score in scores.values()),
                **scores,
            )
    except IntegrityError:
        raise _already_evaluated(order) from None
    log_event(order, actor=None, action="evaluated", payload=scores)
    record_created(evaluation, actor=None, fields=[*SCORE_FIELDS, "needs_callback"], related=order)
    emit("evaluation.received", {"work_order": order.pk, "evaluation": evaluation.pk})
    return evaluation


@transaction.atomic
def record_callback(evaluation: Evaluation, *, actor: User, result: str) -> Evaluation:
    """An agent called the customer about the evaluation and writes down what came of it. Once."""
    require(may_call_back(actor))
    result = (result or "").strip()
    if not result:
        raise field_error("result", _("Write down what came of the call."), "required")
    if len(result) > CALLBACK_RESULT_MAX_LENGTH:
        raise field_error("result", _("At most %(n)d characters.") % {"n": CALLBACK_RESULT_MAX_LENGTH}, "max_length")
    now = timezone.now()
    changed = Evaluation.objects.filter(pk=evaluation.pk, callback_at__isnull=True).update(
        callback_result=result, callback_by=actor, callback_at=now
    )
    if changed != 1:
        raise DomainError("callback_recorded", _("The call back for this evaluation has already been recorded."))
    evaluation.refresh_from_db()
    log_event(evaluation.work_order, actor=actor, action="callback_recorded", note=result)
    record_event(evaluation, actor=actor, action="callback_recorded", related=evaluation.work_order, note=result)
    return evaluation
