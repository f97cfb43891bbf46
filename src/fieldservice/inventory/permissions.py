"""Who may see and move the stock of a warehouse.

- Administrators: every warehouse.
- Our own staff who see stock (keepers, dispatchers, the director): our company's warehouses and
  our engineers' vans. A partner provider's warehouses and vans are its own business.
- A provider administrator: his company's warehouses and its engineers' vans.
- An engineer: his own van.

Moving stock needs MANAGE_STOCK and a warehouse of one's organisation; a warehouse with keepers
named is run by those keepers only (and administrators). An engineer moves stock of his own van
only, through the verbs made for him (use on a job, receive, return).
"""

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.inventory.models import Warehouse


def sees_all_stock(actor: User) -> bool:
    return bool(actor.is_authenticated and (actor.is_superuser or can(actor, Capability.MANAGE_PEOPLE)))


def may_view_warehouse(actor: User, warehouse: Warehouse) -> bool:
    if sees_all_stock(actor):
        return True
    if warehouse.engineer_id is not None and warehouse.engineer_id == actor.pk:
        return True
    return can(actor, Capability.VIEW_STOCK) and warehouse.organisation_id == actor.organisation_id


def may_operate(actor: User, warehouse: Warehouse) -> bool:
    """Receive into, ship from, count and adjust this warehouse (the keeper's moves)."""
    if sees_all_stock(actor):
        return True
    if not can(actor, Capability.MANAGE_STOCK) or warehouse.organisation_id != actor.organisation_id:
        return False
    if warehouse.is_van:
        return True
    keepers = [user.pk for user in warehouse.keepers.all()]
    return not keepers or actor.pk in keepers


def is_own_van(actor: User, warehouse: Warehouse) -> bool:
    return warehouse.is_van and warehouse.engineer_id == actor.pk and can(actor, Capability.REQUEST_PARTS)
