"""Scoped queries of customer care: plans for the care managers, tasks for their assignees, and
the effect of each plan (responses, leads, and the requests its customers filed after the touch)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from fieldservice.accounts.models import User
from fieldservice.maintenance.care_permissions import may_manage_care
from fieldservice.maintenance.models.care import (
    RESPONSE_OUTCOMES,
    TASK_METHODS,
    CareOutcome,
    CarePlan,
    CareTouch,
)
from fieldservice.workorders.choices import Channel
from fieldservice.workorders.models import ServiceRequest


def care_plans_for(actor: User) -> QuerySet[CarePlan]:
    """Every plan for a care manager; anyone else gets a 404 (care is not theirs to know of)."""
    if not may_manage_care(actor):
        raise Http404
    return CarePlan.objects.select_related("created_by")


def get_care_plan_for(actor: User, pk) -> CarePlan:
    plan = care_plans_for(actor).filter(pk=pk).first() if isinstance(pk, int) else None
    if plan is None:
        raise Http404
    return plan


def filter_care_plans(
    plans: QuerySet[CarePlan], *, q: str = "", status: str = "", method: str = "", occasion: str = ""
) -> QuerySet[CarePlan]:
    q = (q or "").strip()[:100]
    if q:
        plans = plans.filter(Q(name__icontains=q) | Q(occasion_note__icontains=q) | Q(subject__icontains=q))
    if status:
        plans = plans.filter(status=status)
    if method:
        plans = plans.filter(method=method)
    if occasion:
        plans = plans.filter(occasion=occasion)
    return plans


def touches_of(actor: User, plan: CarePlan) -> QuerySet[CareTouch]:
    """The plan's touches, for a care manager (the plan page)."""
    if not may_manage_care(actor):
        raise Http404
    return CareTouch.objects.filter(plan=plan).select_related("customer", "assignee").order_by("customer__name", "pk")


def care_tasks_for(actor: User, *, open_only: bool = False, plan: CarePlan | None = None) -> QuerySet[CareTouch]:
    """The calls and visits assigned to the actor ("My care tasks"), open ones first."""
    if not actor.is_authenticated:
        raise Http404
    tasks = CareTouch.objects.filter(assignee=actor, method__in=list(TASK_METHODS)).select_related(
        "plan", "customer", "contact"
    )
    if open_only:
        tasks = tasks.filter(done_at__isnull=True)
    if plan is not None:
        tasks = tasks.filter(plan=plan)
    return tasks.order_by("done_at", "touched_at", "pk")


def has_care_tasks(actor: User) -> bool:
    return bool(
        actor.is_authenticated
        and CareTouch.objects.filter(assignee=actor, method__in=list(TASK_METHODS), done_at__isnull=True).exists()
    )


def get_touch_for(actor: User, pk) -> CareTouch:
    """A touch: a care manager may see any; anyone else only a task assigned to him. 404 otherwise."""
    if not isinstance(pk, int) or not actor.is_authenticated:
        raise Http404
    touches = CareTouch.objects.select_related("plan", "customer", "contact", "assignee")
    if not may_manage_care(actor):
        touches = touches.filter(assignee=actor)
    touch = touches.filter(pk=pk).first()
    if touch is None:
        raise Http404
    return touch


# Effect -------------------------------------------------------------------------------------------


@dataclass
class Effect:
    touched: int = 0
    done: int = 0
    responses: int = 0
    leads: int = 0
    requests_raised: int = 0
    requests: int = 0
    cost: Decimal = Decimal("0")
    currency: str = ""

    @property
    def cost_per_response(self) -> Decimal | None:
        if not self.responses:
            return None
        return (self.cost / self.responses).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _requests_after_touch():
    """How many requests the plan's touched customers filed from their touch to the end of its
    effect window (a customer is touched once per plan, so a request counts once; the ones we
    opened ourselves, proactive, do not count)."""
    touched = CareTouch.objects.filter(
        plan_id=OuterRef(OuterRef("pk")),
        customer_id=OuterRef("customer_id"),
        touched_at__lte=OuterRef("created_at"),
        effect_until__gt=OuterRef("created_at"),
    )
    requests = (
        ServiceRequest.objects.filter(Exists(touched))
        .exclude(channel=Channel.PROACTIVE)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Coalesce(Subquery(requests[:1]), 0)


def with_effect(plans: QuerySet[CarePlan]) -> QuerySet[CarePlan]:
    """The plans with their effect counted in the same query (the list, its export, the API)."""
    return plans.annotate(
        effect_touched=Count("touches", distinct=True),
        effect_done=Count("touches", filter=Q(touches__done_at__isnull=False), distinct=True),
        effect_responses=Count("touches", filter=Q(touches__outcome__in=list(RESPONSE_OUTCOMES)), distinct=True),
        effect_leads=Count("touches", filter=Q(touches__outcome=CareOutcome.LEAD), distinct=True),
        effect_raised=Count("touches", filter=Q(touches__outcome=CareOutcome.REQUEST), distinct=True),
        effect_requests=_requests_after_touch(),
    )


def effect_from(plan: CarePlan) -> Effect:
    """The effect of a plan annotated by `with_effect`."""
    return Effect(
        touched=plan.effect_touched,
        done=plan.effect_done,
        responses=plan.effect_responses,
        leads=plan.effect_leads,
        requests_raised=plan.effect_raised,
        requests=plan.effect_requests,
        cost=plan.actual_cost,
        currency=plan.currency,
    )


def effect_of(plan: CarePlan) -> Effect:
    return effect_from(with_effect(CarePlan.objects.filter(pk=plan.pk)).get())
