"""Who may dispatch orders and read or change the auto-dispatch rules (the rule in
docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_dispatch(actor: User) -> bool:
    return can(actor, Capability.DISPATCH) and actor.is_own_staff


def may_manage_rules(actor: User) -> bool:
    return can(actor, Capability.MANAGE_DISPATCH_RULES) and actor.is_own_staff


def may_view_rules(actor: User) -> bool:
    """Dispatchers read the rules and use the tester; rule managers also change them."""
    return (can(actor, Capability.DISPATCH) or can(actor, Capability.MANAGE_DISPATCH_RULES)) and actor.is_own_staff
