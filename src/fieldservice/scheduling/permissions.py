"""Who may plan visits, manage absences and durations, and have a calendar feed (the rule in
docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.workorders.choices import FINISHED_STATUSES
from fieldservice.workorders.models import WorkOrder


def may_schedule(actor: User) -> bool:
    return actor.is_own_staff and (can(actor, Capability.DISPATCH) or can(actor, Capability.MANAGE_SCHEDULES))


def may_manage_schedules(actor: User) -> bool:
    return actor.is_authenticated and actor.is_own_staff and can(actor, Capability.MANAGE_SCHEDULES)


def may_have_feed(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.ENGINEER)


def may_edit_visit(user, order: WorkOrder) -> bool:
    """Schedulers, and the order's lead engineer agreeing the visit on site."""
    if order.status in FINISHED_STATUSES or not getattr(user, "is_authenticated", False):
        return False
    if may_schedule(user):
        return True
    # One active lead per order (a constraint), so this is "the lead engineer is this user".
    return order.assignments.filter(
        role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES, engineer=user
    ).exists()
