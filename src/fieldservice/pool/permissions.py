"""Who may manage the grab pool (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_pool(actor: User) -> bool:
    return can(actor, Capability.DISPATCH) and actor.is_own_staff
