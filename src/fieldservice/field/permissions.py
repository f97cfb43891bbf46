"""Who may fetch a service report (the rule in docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.workorders.models import WorkOrder


def may_download_report(actor: User, order: WorkOrder) -> bool:
    """Staff and the order's engineers; customers download theirs from the portal."""
    return actor.organisation_kind != OrganisationKind.CUSTOMER
