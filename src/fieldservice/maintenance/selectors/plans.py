"""What each user may see of maintenance plans and their due visits.

Own staff with the capability: everything. Customers: the plans that cover their own machines
(a machine plan of theirs, a model plan of a model they own, a plan of their contract) and the
due visits of their machines. Providers: no plans, and only the due visits whose orders were
dispatched to them. Engineers: the due visits of their own orders.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.maintenance.models import DueVisit, MaintenancePlan, PlanScope
from fieldservice.workorders.selectors import work_orders_for


def _sees_everything(actor: User) -> bool:
    return actor.is_superuser or (actor.is_own_staff and bool(actor.role_codes - {"engineer"}))


def plans_for(actor: User) -> QuerySet[MaintenancePlan]:
    plans = MaintenancePlan.objects.select_related("equipment__product_model", "product_model", "contract", "owner")
    if not can(actor, Capability.VIEW_MAINTENANCE):
        return plans.none()
    if _sees_everything(actor):
        return plans
    if actor.organisation_kind != OrganisationKind.CUSTOMER:
        return plans.none()
    own = Equipment.objects.filter(customer__organisation_id=actor.organisation_id, status=EquipmentStatus.REGISTERED)
    return plans.filter(
        Q(scope=PlanScope.MACHINE, equipment__customer__organisation_id=actor.organisation_id)
        | Q(scope=PlanScope.CONTRACT, contract__customer__organisation_id=actor.organisation_id)
        | Q(Exists(own.filter(product_model_id=OuterRef("product_model_id"))), scope=PlanScope.MODEL)
    )


def search_plans(actor: User, text: str = "", *, scope: str = "", active: str = "") -> QuerySet[MaintenancePlan]:
    plans = plans_for(actor)
    text = (text or "").strip()
    if text:
        plans = plans.filter(
            Q(name__icontains=text)
            | Q(product_model__code__icontains=text)
            | Q(equipment__serial_number__icontains=text)
            | Q(contract__number__icontains=text)
        )
    if scope:
        plans = plans.filter(scope=scope)
    if active in ("yes", "no"):
        plans = plans.filter(is_active=active == "yes")
    return plans


def get_plan_for(actor: User, pk: int) -> MaintenancePlan:
    return get_object_or_404(plans_for(actor), pk=pk)


def due_visits_for(actor: User) -> QuerySet[DueVisit]:
    visits = DueVisit.objects.select_related(
        "plan",
        "equipment__product_model",
        "equipment__customer",
        "equipment__site",
        "work_order",
    )
    if not can(actor, Capability.VIEW_MAINTENANCE):
        return visits.none()
    if _sees_everything(actor):
        return visits
    if actor.organisation_kind == OrganisationKind.CUSTOMER:
        return visits.filter(equipment__customer__organisation_id=actor.organisation_id)
    # Providers and engineers: the visits of the orders they were given.
    return visits.filter(work_order__in=work_orders_for(actor).values("pk"))


def filter_due_visits(
    visits: QuerySet[DueVisit],
    *,
    text: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
    area: str = "",
    engineer: int | None = None,
    plan: int | None = None,
) -> QuerySet[DueVisit]:
    text = (text or "").strip()
    if text:
        visits = visits.filter(
            Q(equipment__serial_number__icontains=text)
            | Q(equipment__customer__name__icontains=text)
            | Q(plan__name__icontains=text)
            | Q(work_order__number__icontains=text)
        )
    if start:
        visits = visits.filter(due_on__gte=start)
    if end:
        visits = visits.filter(due_on__lte=end)
    if area:
        visits = visits.filter(Q(equipment__site__city=area) | Q(equipment__site__province=area))
    if engineer:
        visits = visits.filter(
            work_order__assignments__engineer_id=engineer,
            work_order__assignments__status__in=["offered", "accepted"],
        ).distinct()
    if plan:
        visits = visits.filter(plan_id=plan)
    return visits


def get_due_visit_for(actor: User, pk: int) -> DueVisit:
    return get_object_or_404(due_visits_for(actor), pk=pk)


def plans_of_machine(actor: User, equipment: Equipment) -> QuerySet[MaintenancePlan]:
    """The active plans covering the machine, as the viewer may see them."""
    return (
        plans_for(actor)
        .filter(is_active=True)
        .filter(
            Q(scope=PlanScope.MACHINE, equipment=equipment)
            | Q(scope=PlanScope.MODEL, product_model_id=equipment.product_model_id)
            | Q(scope=PlanScope.CONTRACT, contract__equipment=equipment)
        )
    )


def next_due_of_machine(equipment: Equipment) -> dict[int, dt.date]:
    """{plan id: the next due date written for the machine, today or later}."""
    rows = (
        DueVisit.objects.filter(equipment=equipment, due_on__gte=timezone.localdate())
        .values("plan_id")
        .annotate(next=Min("due_on"))
        .values_list("plan_id", "next")
    )
    return dict(rows)
