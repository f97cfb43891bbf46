"""Who sees which inspection, and the predicates the services, pages and API ask.

- Our desk (VIEW_MAINTENANCE: agents, dispatchers, the director, administrators): every inspection.
- A customer: his company's inspections once sent (never a draft), in the portal or by the link.
- A provider's administrator: inspections with an order dispatched to his company.
- An engineer: the inspections he is named on or holds an order of.
Anything else is 404, as missing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import Equipment
from fieldservice.core.choices import ServiceType
from fieldservice.dispatch.models import Assignment
from fieldservice.field.models import JobStep, JobTemplate
from fieldservice.maintenance.models import Finding, Inspection
from fieldservice.maintenance.models.inspections import InspectionStatus
from fieldservice.workorders.choices import RequestStatus, WorkOrderStatus
from fieldservice.workorders.models import ServiceRequest, WorkOrder
from fieldservice.workorders.selectors import ACTIVE_OR_DONE_ASSIGNMENT, work_orders_for

OPEN_ORDER_STATUSES = frozenset(set(WorkOrderStatus.values) - {WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED})
OPEN_REQUEST_STATUSES = frozenset({RequestStatus.OPEN, RequestStatus.UNCONFIRMED})


# Predicates -----------------------------------------------------------------------------------------


def may_manage_inspections(actor: User) -> bool:
    return bool(can(actor, Capability.MANAGE_MAINTENANCE) and actor.is_own_staff)


def is_customer_of(actor: User, customer) -> bool:
    return bool(
        actor.is_authenticated
        and getattr(actor, "organisation_kind", None) == OrganisationKind.CUSTOMER
        and customer.organisation_id == actor.organisation_id
    )


def is_engineer_on(actor: User, inspection: Inspection) -> bool:
    if not can(actor, Capability.WORK_IN_FIELD):
        return False
    if inspection.engineers.filter(pk=actor.pk).exists():
        return True
    return Assignment.objects.filter(
        work_order__inspection_machine__inspection=inspection, engineer=actor, status__in=ACTIVE_OR_DONE_ASSIGNMENT
    ).exists()


def may_work_on_inspection(actor: User, inspection: Inspection) -> bool:
    """Record findings and start: the desk that runs inspections, or an engineer on it."""
    return may_manage_inspections(actor) or is_engineer_on(actor, inspection)


# Queries ----------------------------------------------------------------------------------------------


def inspections_for(actor: User, q: str = "", *, status: str = "", customer=None, owner=None) -> QuerySet[Inspection]:
    rows = Inspection.objects.select_related("customer", "site", "owner", "template")
    if not actor.is_authenticated:
        return rows.none()
    if actor.is_own_staff and can(actor, Capability.VIEW_MAINTENANCE):
        pass
    elif getattr(actor, "organisation_kind", None) == OrganisationKind.CUSTOMER and can(
        actor, Capability.VIEW_MAINTENANCE
    ):
        rows = rows.filter(customer__organisation_id=actor.organisation_id).exclude(status=InspectionStatus.DRAFT)
    elif getattr(actor, "organisation_kind", None) == OrganisationKind.PROVIDER and can(
        actor, Capability.VIEW_MAINTENANCE
    ):
        rows = rows.filter(machines__work_order__in=work_orders_for(actor).values("pk")).distinct()
    elif can(actor, Capability.WORK_IN_FIELD):
        on_order = Assignment.objects.filter(engineer=actor, status__in=ACTIVE_OR_DONE_ASSIGNMENT).values(
            "work_order_id"
        )
        rows = rows.filter(Q(engineers=actor) | Q(machines__work_order__in=on_order)).distinct()
    else:
        return rows.none()
    if status:
        rows = rows.filter(status=status)
    if customer is not None:
        rows = rows.filter(customer=customer)
    if owner is not None:
        rows = rows.filter(owner=owner)
    q = (q or "").strip()
    if q:
        rows = rows.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(site__name__icontains=q)
            | Q(machines__equipment__serial_number__icontains=q)
        ).distinct()
    return rows.order_by("-created_at", "-pk")


def get_inspection_for(actor: User, pk: int) -> Inspection:
    return get_object_or_404(inspections_for(actor), pk=pk)


def inspection_by_token(token: str) -> Inspection:
    """The customer's follow link: no user, only the token; a draft is not there yet."""
    return get_object_or_404(
        Inspection.objects.select_related("customer", "site", "template", "owner").exclude(
            status=InspectionStatus.DRAFT
        ),
        follow_token=token,
    )


def inspection_templates() -> QuerySet[JobTemplate]:
    return JobTemplate.objects.filter(service_type=ServiceType.INSPECTION, is_active=True).order_by("name", "pk")


def open_issues_of(machines) -> tuple[list[WorkOrder], list[ServiceRequest]]:
    """The open orders and requests of these machines: what an inspection may also look at."""
    ids = [m.pk if isinstance(m, Equipment) else m for m in machines]
    orders = list(
        WorkOrder.objects.filter(equipment_id__in=ids, status__in=OPEN_ORDER_STATUSES)
        .exclude(service_type=ServiceType.INSPECTION)
        .order_by("created_at", "pk")
    )
    requests = list(
        ServiceRequest.objects.filter(equipment_id__in=ids, status__in=OPEN_REQUEST_STATUSES).order_by(
            "created_at", "pk"
        )
    )
    return orders, requests


def machines_of(inspection: Inspection):
    """The machines with their orders, the steps answered, items and findings (the detail pages)."""
    lines = list(
        inspection.machines.select_related("equipment__product_model", "work_order").prefetch_related(
            "items", "findings__repair_order", "findings__photo"
        )
    )
    order_ids = [line.work_order_id for line in lines if line.work_order_id]
    steps: dict[int, list] = {}
    for step in JobStep.objects.filter(work_order_id__in=order_ids).order_by("work_order_id", "position", "pk"):
        steps.setdefault(step.work_order_id, []).append(step)
    for line in lines:
        line.steps = steps.get(line.work_order_id, [])
        line.answered = sum(1 for s in line.steps if s.answered_at is not None)
        line.checked = bool(line.steps) and all(s.answered_at is not None for s in line.steps if s.required)
        if line.work_order is not None and line.work_order.status in (
            WorkOrderStatus.COMPLETED,
            WorkOrderStatus.CLOSED,
        ):
            line.checked = True
    return lines


def findings_of(inspection: Inspection) -> QuerySet[Finding]:
    return inspection.findings.select_related("machine__equipment", "repair_order", "photo", "recorded_by")


def active_inspections_of_engineer(actor: User) -> QuerySet[Inspection]:
    """The engineer's inspections to work on (his phone's home)."""
    return inspections_for(actor).filter(status__in=(InspectionStatus.APPROVED, InspectionStatus.IN_PROGRESS))
