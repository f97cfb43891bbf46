"""Who may change machines, the product catalogue and fitted parts (the rule in
docs/DEVELOPING.md, "Permissions")."""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_change_assets(actor: User) -> bool:
    """Only our own staff register and change machines; partners and customers only look."""
    return can(actor, Capability.CHANGE_ASSETS) and actor.is_own_staff


def may_change_models(actor: User) -> bool:
    """Product models and their BOMs are catalogue settings: administrators only (the role table),
    not everyone who registers machines."""
    return can(actor, Capability.CHANGE_PRODUCT_MODELS)


def may_fit_parts(actor: User) -> bool:
    """Desk staff who change assets, and engineers (the field service checks they work on the order)."""
    return may_change_assets(actor) or can(actor, Capability.WORK_IN_FIELD)
