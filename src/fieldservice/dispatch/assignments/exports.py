"""The dispatch columns of the work order export (registered in apps.py)."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy

from fieldservice.core.listing import Column
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment


def with_lead(orders: QuerySet) -> QuerySet:
    leads = Assignment.objects.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES)
    return orders.prefetch_related(
        Prefetch("assignments", queryset=leads.select_related("engineer", "provider"), to_attr="export_leads")
    )


def lead_name(order) -> str:
    """The lead engineer; the provider's name while its admin has not named one."""
    leads = getattr(order, "export_leads", None)
    if leads is None:  # not prepared: one query for this order
        leads = list(with_lead(type(order).objects.filter(pk=order.pk))[0].export_leads)
    lead = leads[0] if leads else None
    if lead is None:
        return ""
    return str(lead.engineer) if lead.engineer_id else str(lead.provider or "")


ENGINEER = Column(gettext_lazy("Engineer"), lead_name)
