"""Who may set up SLA policies and calendars and watch overdue orders (the rule in
docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_sla(actor: User) -> bool:
    return can(actor, Capability.MANAGE_SLA) and actor.is_own_staff


def may_watch_overdue(actor: User) -> bool:
    """Our staff and service providers watch overdue orders; customers do not."""
    return can(actor, Capability.VIEW_WORK_ORDERS) and actor.organisation_kind != OrganisationKind.CUSTOMER
