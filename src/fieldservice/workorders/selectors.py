"""What each user may see of service requests and work orders."""

from decimal import Decimal

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.db import any_of
from fieldservice.workorders.choices import TO_DISPATCH_STATUSES
from fieldservice.workorders.models import (
    Attachment,
    FaultCategory,
    NeededPart,
    ServiceRequest,
    WorkOrder,
    WorkOrderEvent,
)

ACTIVE_OR_DONE_ASSIGNMENT = ["offered", "accepted"]


def work_orders_for(actor: User) -> QuerySet[WorkOrder]:
    """Desk staff: all. Engineers: orders offered to or accepted by them. Providers' admins:
    orders given to their company or held by any of its engineers. Customers: their company's orders."""
    orders = WorkOrder.objects.select_related("customer", "site", "equipment__product_model", "request")
    if not can(actor, Capability.VIEW_WORK_ORDERS):
        return orders.none()
    if actor.is_own_staff and (actor.is_superuser or actor.role_codes - {"engineer"}):
        return orders
    kind = actor.organisation_kind
    if kind == OrganisationKind.CUSTOMER:
        return orders.filter(customer__organisation_id=actor.organisation_id)
    mine = Q(assignments__engineer=actor, assignments__status__in=ACTIVE_OR_DONE_ASSIGNMENT)
    if kind == OrganisationKind.PROVIDER and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        # Also by the engineer's employer, not only the recorded provider: an order a dispatcher
        # gave straight to one of the provider's engineers is the provider's as well.
        mine |= Q(assignments__provider_id=actor.organisation_id) | Q(
            assignments__engineer__organisation_id=actor.organisation_id
        )
    return orders.filter(mine).distinct()


def orders_of_engineer(orders: QuerySet[WorkOrder], engineer_id: int) -> QuerySet[WorkOrder]:
    """Of these orders, those offered to or accepted by the engineer."""
    return orders.filter(
        assignments__engineer_id=engineer_id, assignments__status__in=ACTIVE_OR_DONE_ASSIGNMENT
    ).distinct()


def get_work_order_for(actor: User, pk: int) -> WorkOrder:
    return get_object_or_404(work_orders_for(actor), pk=pk)


def orders_to_dispatch(actor: User) -> QuerySet[WorkOrder]:
    if not can(actor, Capability.DISPATCH):
        return WorkOrder.objects.none()
    return work_orders_for(actor).filter(status__in=TO_DISPATCH_STATUSES).order_by("created_at", "pk")


def requests_for(actor: User) -> QuerySet[ServiceRequest]:
    requests = ServiceRequest.objects.select_related("customer", "contact", "equipment__product_model")
    if not can(actor, Capability.VIEW_WORK_ORDERS):
        return requests.none()
    if actor.is_own_staff and (actor.is_superuser or actor.role_codes - {"engineer"}):
        return requests
    kind = actor.organisation_kind
    if kind == OrganisationKind.CUSTOMER:
        return requests.filter(customer__organisation_id=actor.organisation_id)
    if kind == OrganisationKind.PROVIDER and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        return requests.filter(
            Q(customer__service_provider_id=actor.organisation_id)
            | Q(created_by__organisation_id=actor.organisation_id)
            | Q(work_orders__in=work_orders_for(actor).values("pk"))
        ).distinct()
    return requests.filter(work_orders__in=work_orders_for(actor)).distinct()


def get_request_for(actor: User, pk: int) -> ServiceRequest:
    return get_object_or_404(requests_for(actor), pk=pk)


def request_by_follow_token(token: str) -> ServiceRequest:
    """The customer's private follow link: no user, only the token."""
    return get_object_or_404(ServiceRequest.objects.select_related("customer", "equipment"), follow_token=token)


def fault_categories() -> QuerySet[FaultCategory]:
    """The fault tree is reference data: every signed-in user may read the active categories."""
    return FaultCategory.objects.select_related("parent").filter(is_active=True)


def get_attachment_for(actor: User, pk: int) -> Attachment:
    """A photo, signature or document, visible with the request or work order it belongs to."""
    visible = Q(request__in=requests_for(actor).values("pk")) | Q(work_order__in=work_orders_for(actor).values("pk"))
    return get_object_or_404(Attachment.objects.filter(visible), pk=pk)


def service_log(order: WorkOrder) -> QuerySet[WorkOrderEvent]:
    return order.events.select_related("actor").order_by("at", "pk")


def needs_of(order_ids) -> dict[int, dict[int, Decimal]]:
    """{order_id: {part_id: quantity}} for `order_ids`, in one query (dispatch and planning ask)."""
    needs: dict[int, dict[int, Decimal]] = {}
    for order_id, part_id, quantity in NeededPart.objects.filter(work_order_id__in=any_of(order_ids)).values_list(
        "work_order_id", "part_id", "quantity"
    ):
        needs.setdefault(order_id, {})[part_id] = quantity
    return needs
