"""Who may manage work orders at the desk (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_orders(actor: User) -> bool:
    return can(actor, Capability.MANAGE_WORK_ORDERS) and actor.is_own_staff
