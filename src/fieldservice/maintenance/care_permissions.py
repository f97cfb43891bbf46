"""Who may do what in customer care.

- Care plans: our staff with MANAGE_CARE (agents, the director, administrators): every plan.
- A care task (a call or a visit): its assignee, and the care managers above.
- Customers and providers: nothing of care, not even that it exists (404s).
"""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_care(actor: User) -> bool:
    return can(actor, Capability.MANAGE_CARE) and getattr(actor, "is_own_staff", False)


def may_work_on_touch(actor: User, touch) -> bool:
    """Record the outcome of a call or visit: the person it is assigned to, or a care manager."""
    if not (actor.is_authenticated and actor.is_active):
        return False
    return may_manage_care(actor) or (touch.assignee_id is not None and touch.assignee_id == actor.pk)
