"""Who may manage notification templates, IM endpoints and SMS gateways (the rule in
docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_notifications(actor: User) -> bool:
    return can(actor, Capability.MANAGE_NOTIFICATIONS) and actor.is_own_staff
