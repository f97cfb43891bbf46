"""Who may do what in proactive service (the rule in docs/DEVELOPING.md, "Permissions").

Campaigns: our own staff with MANAGE_CAMPAIGNS (the director, administrators) write, launch, close
and cancel them and record a machine's refusal or that nobody was reached; VIEW_MAINTENANCE reads,
always scoped by the selectors (a customer his own machines' notices, a provider the machines whose
orders were dispatched to it).
"""

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_campaigns(actor: User) -> bool:
    return can(actor, Capability.MANAGE_CAMPAIGNS) and bool(actor.is_own_staff or actor.is_superuser)


def may_view_campaigns(actor: User) -> bool:
    return can(actor, Capability.VIEW_MAINTENANCE) or may_manage_campaigns(actor)


def is_customer_user(actor: User) -> bool:
    return bool(actor.is_authenticated and getattr(actor, "organisation_kind", None) == OrganisationKind.CUSTOMER)
