"""Who may run and apply day-plan optimisations (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_plan(actor: User) -> bool:
    return can(actor, Capability.DISPATCH) and actor.is_own_staff
