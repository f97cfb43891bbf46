"""What a user may see of billing: every lookup scoped by the acting user (404 for missing and
not-yours alike)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.billing.models import FeeLine
from fieldservice.billing.permissions import is_customer, may_view_billing
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for


def fee_orders_for(actor: User) -> QuerySet[WorkOrder]:
    """Orders whose fee lines the actor may read: the back office every order; an engineer the
    orders he works on; a provider's administrator his company's orders. Customers read their
    quotations and bills, not the working lines (they carry costs and covered amounts)."""
    if not getattr(actor, "is_authenticated", False) or is_customer(actor):
        return WorkOrder.objects.none()
    if (
        may_view_billing(actor)
        or can(actor, Capability.WORK_IN_FIELD)
        or can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
    ):
        return work_orders_for(actor)
    return WorkOrder.objects.none()


def get_fee_order_for(actor: User, pk: int) -> WorkOrder:
    return get_object_or_404(fee_orders_for(actor), pk=pk)


def fee_lines_of(order: WorkOrder) -> QuerySet[FeeLine]:
    """Every line of the order, removed ones last, as the panels and the API list them."""
    return (
        FeeLine.objects.filter(work_order_id=order.pk)
        .select_related("part", "receipt", "created_by", "quotation")
        .order_by("is_void", "kind", "pk")
    )


def fee_lines_for(actor: User) -> QuerySet[FeeLine]:
    return FeeLine.objects.filter(work_order__in=fee_orders_for(actor).values("pk"))


def get_fee_line_for(actor: User, pk: int) -> FeeLine:
    return get_object_or_404(fee_lines_for(actor).select_related("work_order", "part"), pk=pk)
