"""Who may call customers back and read the evaluations (the rule in docs/DEVELOPING.md,
"Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_call_back(actor: User) -> bool:
    return can(actor, Capability.CALL_BACK) and actor.is_own_staff


def may_review_evaluations(actor: User) -> bool:
    """The evaluation list with its averages is for our desk (agents, directors, dispatchers)."""
    return actor.is_own_staff and can(actor, Capability.REVIEW_EVALUATIONS)
