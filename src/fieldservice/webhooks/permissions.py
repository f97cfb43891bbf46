"""Who may manage webhook subscriptions (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_webhooks(actor: User) -> bool:
    return can(actor, Capability.MANAGE_WEBHOOKS) and actor.is_own_staff
