"""Who may write contracts and price lists (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_contracts(actor: User) -> bool:
    """Only our own staff write contracts and prices; customers read their own."""
    return can(actor, Capability.MANAGE_CONTRACTS) and actor.is_own_staff
