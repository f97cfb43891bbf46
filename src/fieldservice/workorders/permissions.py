"""Who may manage work orders at the desk (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.workorders.models import WorkOrder


def may_manage_orders(actor: User) -> bool:
    return can(actor, Capability.MANAGE_WORK_ORDERS) and actor.is_own_staff


def may_work_on(actor: User, order: WorkOrder) -> bool:
    """Put the order on hold, resume it, add a photo or document to it: a desk user, or an
    engineer it is offered to or accepted by (the statuses are dispatch's, spelled out: dispatch
    sits above workorders)."""
    return (
        may_manage_orders(actor)
        or order.assignments.filter(engineer=actor, status__in=["offered", "accepted"]).exists()
    )
