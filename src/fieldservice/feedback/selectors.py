"""Who may see which evaluations, and the engineers' scores."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.feedback.models import SCORE_FIELDS, Evaluation
from fieldservice.workorders.selectors import work_orders_for

LEAD_ACCEPTED = Q(role=AssignmentRole.LEAD, status=AssignmentStatus.ACCEPTED)


def evaluations_for(actor: User) -> QuerySet[Evaluation]:
    """The evaluations of the work orders the actor may see: a customer sees their company's,
    an engineer those of their own orders, the desk all."""
    return Evaluation.objects.select_related(
        "work_order__customer",
        "work_order__request__contact",
        "work_order__equipment__product_model",
        "callback_by",
    ).filter(work_order__in=work_orders_for(actor))


def get_evaluation_for(actor: User, pk: int) -> Evaluation:
    return get_object_or_404(evaluations_for(actor), pk=pk)


def callbacks_due_for(actor: User) -> QuerySet[Evaluation]:
    """Low-scored evaluations nobody has called the customer about yet, oldest first."""
    if not can(actor, Capability.CALL_BACK):
        return Evaluation.objects.none()
    return evaluations_for(actor).filter(needs_callback=True, callback_at__isnull=True).order_by("submitted_at", "pk")


def filter_evaluations(
    evaluations: QuerySet[Evaluation],
    *,
    customer: int | None = None,
    engineer: int | None = None,
    needs_callback: bool | None = None,
    max_overall: int | None = None,
    submitted_from=None,
    submitted_to=None,
) -> QuerySet[Evaluation]:
    """The filters the list page and the API share. `engineer` is the lead engineer's user id."""
    if customer:
        evaluations = evaluations.filter(work_order__customer_id=customer)
    if engineer:
        leads = Assignment.objects.filter(LEAD_ACCEPTED, engineer_id=engineer).values("work_order_id")
        evaluations = evaluations.filter(work_order_id__in=leads)
    if needs_callback is not None:
        evaluations = evaluations.filter(needs_callback=needs_callback)
    if max_overall:
        evaluations = evaluations.filter(overall__lte=max_overall)
    if submitted_from:
        evaluations = evaluations.filter(submitted_at__date__gte=submitted_from)
    if submitted_to:
        evaluations = evaluations.filter(submitted_at__date__lte=submitted_to)
    return evaluations


def average_scores(evaluations: QuerySet[Evaluation]) -> dict:
    """{"count": n, "overall": 4.2, ...}; averages are None when there is nothing to average."""
    values = evaluations.order_by().aggregate(count=Count("pk"), **{name: Avg(name) for name in SCORE_FIELDS})
    return {key: (round(value, 2) if isinstance(value, float) else value) for key, value in values.items()}


@dataclass(frozen=True)
class Score:
    average: float
    count: int


def engineer_scores(engineers: Iterable[User | int] | None = None) -> dict[int, Score]:
    """The average overall score per lead engineer (user id) over the orders they led that the
    customer evaluated. An engineer without evaluations is missing from the result."""
    leads = Assignment.objects.filter(LEAD_ACCEPTED, engineer__isnull=False, work_order__evaluation__isnull=False)
    if engineers is not None:
        ids = [engineer if isinstance(engineer, int) else engineer.pk for engineer in engineers]
        leads = leads.filter(engineer_id__in=ids)
    rows = (
        leads.order_by()
        .values("engineer_id")
        .annotate(average=Avg("work_order__evaluation__overall"), count=Count("work_order_id", distinct=True))
    )
    return {row["engineer_id"]: Score(average=float(row["average"]), count=row["count"]) for row in rows}
