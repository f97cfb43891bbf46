"""Who may write knowledge articles (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_knowledge(actor: User) -> bool:
    return can(actor, Capability.MANAGE_KNOWLEDGE) and actor.is_own_staff
