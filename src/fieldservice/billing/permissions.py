"""Who may see and move money.

- Back office (agents, the director, administrators: VIEW_BILLING / MANAGE_BILLING): every
  order's fee lines, quotations, bills, payments and receivables.
- Settlement (the director as service manager, administrators: MANAGE_SETTLEMENT): rules,
  generating, correcting, approving and settling statements, margins.
- An engineer: the fee lines and quotations of the orders he works on (through the order he may
  see), and his own statements.
- A provider administrator: his company's statements only (confirm or dispute their lines).
- A customer: his company's quotations, bills and payments; never costs or margins.
"""

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.billing.choices import PartyKind
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment


def may_view_billing(actor: User) -> bool:
    return can(actor, Capability.VIEW_BILLING)


def may_manage_billing(actor: User) -> bool:
    return can(actor, Capability.MANAGE_BILLING)


def may_settle(actor: User) -> bool:
    return can(actor, Capability.MANAGE_SETTLEMENT)


def may_see_costs(actor: User) -> bool:
    """Internal costs and margins: the back office only, never a customer or a provider."""
    return may_view_billing(actor) and getattr(actor, "organisation_kind", None) != OrganisationKind.CUSTOMER


def may_see_margins(actor: User) -> bool:
    """Cost and margin pages, panels and API: the back office of our own company (VIEW_BILLING or
    MANAGE_SETTLEMENT), never a customer, a provider or an engineer, whatever else they may do."""
    return (may_see_costs(actor) or may_settle(actor)) and getattr(actor, "is_own_staff", False)


def is_customer(actor: User) -> bool:
    return bool(actor.is_authenticated and getattr(actor, "organisation_kind", None) == OrganisationKind.CUSTOMER)


def may_view_statement_of(actor: User, party_kind: str, party_id: int) -> bool:
    if may_settle(actor):
        return True
    if not can(actor, Capability.VIEW_OWN_STATEMENTS):
        return False
    if party_kind == PartyKind.ENGINEER:
        return party_id == actor.pk
    return (
        party_kind == PartyKind.PROVIDER
        and actor.organisation_kind == OrganisationKind.PROVIDER
        and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
        and party_id == actor.organisation_id
    )


def may_answer_statement(actor: User, party_kind: str, party_id: int) -> bool:
    """Confirm or dispute a statement: its party only (the engineer himself, the provider's
    administrator), never the manager on the party's behalf."""
    if not can(actor, Capability.VIEW_OWN_STATEMENTS):
        return False
    if party_kind == PartyKind.ENGINEER:
        return party_id == actor.pk
    return (
        party_kind == PartyKind.PROVIDER
        and actor.organisation_kind == OrganisationKind.PROVIDER
        and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
        and party_id == actor.organisation_id
    )


def may_view_statements(actor: User) -> bool:
    """The statements pages and API at all (each user then sees his own, see the selectors)."""
    return may_settle(actor) or can(actor, Capability.VIEW_OWN_STATEMENTS)


def is_engineer_on(actor: User, order) -> bool:
    """The actor has accepted the order (the engineer who writes a quotation on site)."""
    return bool(
        can(actor, Capability.WORK_IN_FIELD)
        and Assignment.objects.filter(work_order=order, engineer=actor, status=AssignmentStatus.ACCEPTED).exists()
    )


def may_write_quotation(actor: User, order) -> bool:
    """From the desk (MANAGE_BILLING), or on site by an engineer who accepted the order."""
    return may_manage_billing(actor) or is_engineer_on(actor, order)


def is_customer_of(actor: User, customer) -> bool:
    """A user of the customer's own company (who may approve or decline its quotations)."""
    return is_customer(actor) and customer.organisation_id == actor.organisation_id
