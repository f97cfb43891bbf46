from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.db import any_of, int_array
from fieldservice.inventory.choices import Grade, WarehouseKind
from fieldservice.inventory.models import Part, StockBalance, StockMove, Warehouse
from fieldservice.inventory.permissions import sees_all_stock


def parts_for(actor: User, text: str = "") -> QuerySet[Part]:
    if not can(actor, Capability.VIEW_PARTS):
        return Part.objects.none()
    parts = Part.objects.all()
    text = (text or "").strip()
    if text:
        parts = parts.filter(Q(part_number__icontains=text) | Q(name__icontains=text))
    return parts


def get_part_for(actor: User, pk: int) -> Part:
    return get_object_or_404(parts_for(actor), pk=pk)


def warehouses_for(actor: User) -> QuerySet[Warehouse]:
    """The warehouses whose stock `actor` may see (see inventory.permissions)."""
    if not actor.is_authenticated or not actor.is_active:
        return Warehouse.objects.none()
    if sees_all_stock(actor):
        return Warehouse.objects.all()
    visible = Q(kind=WarehouseKind.VAN, engineer=actor)
    if can(actor, Capability.VIEW_STOCK) and actor.organisation_id is not None:
        visible |= Q(organisation_id=actor.organisation_id)
    return Warehouse.objects.filter(visible)


def get_warehouse_for(actor: User, pk: int) -> Warehouse:
    return get_object_or_404(warehouses_for(actor), pk=pk)


def van_of(engineer: User) -> Warehouse | None:
    return Warehouse.objects.filter(kind=WarehouseKind.VAN, engineer=engineer).first()


def request_sources_for(actor: User) -> QuerySet[Warehouse]:
    """Where an engineer may ask for parts: his organisation's warehouses (not vans, not transit)."""
    if actor.organisation_id is None:
        return Warehouse.objects.none()
    return Warehouse.objects.filter(
        organisation_id=actor.organisation_id,
        is_active=True,
        kind__in=[WarehouseKind.CENTRAL, WarehouseKind.REGIONAL, WarehouseKind.PROVIDER],
    )


def balances_for(actor: User) -> QuerySet[StockBalance]:
    return StockBalance.objects.filter(warehouse__in=warehouses_for(actor)).select_related("warehouse", "part", "bin")


def moves_for(actor: User) -> QuerySet[StockMove]:
    return StockMove.objects.filter(warehouse__in=warehouses_for(actor)).select_related(
        "warehouse", "part", "unit", "actor"
    )


# "Who carries these": the dispatcher's questions about stock. Balances answer them, never the
# ledger: the (part, warehouse) index `stock_balance_part` reaches the few rows of the parts asked
# for, however long the ledger grows. Available means good stock not promised to a requisition
# (on-hand - reserved), summed over lots.

ZERO = Decimal("0")


def carried_by(engineer_ids, needs: dict[int, Decimal]) -> dict[int, dict[int, Decimal]]:
    """For each engineer of `engineer_ids`, the available stock in his van of each part of `needs`
    (a part he has none of is absent; an engineer with none of them maps to {}). One query."""
    engineer_ids = list(engineer_ids)
    carried: dict[int, dict[int, Decimal]] = {pk: {} for pk in engineer_ids}
    if not engineer_ids or not needs:
        return carried
    rows = (
        StockBalance.objects.filter(
            part_id__in=list(needs),
            grade=Grade.GOOD,
            warehouse__kind=WarehouseKind.VAN,
            warehouse__is_active=True,
            warehouse__engineer_id__in=any_of(engineer_ids),
        )
        .order_by()  # no ordering: the model's would join the parts and warehouses into the grouping
        .values("warehouse__engineer_id", "part_id")
        .annotate(available=Sum(F("on_hand") - F("reserved")))
        .filter(available__gt=0)
        .values_list("warehouse__engineer_id", "part_id", "available")
    )
    for engineer_id, part_id, available in rows:
        carried[engineer_id][part_id] = available
    return carried


def availability(part_ids, warehouse_ids=None) -> dict[int, dict[int, Decimal]]:
    """The available good stock of each part of `part_ids` per warehouse, {warehouse_id: {part_id:
    quantity}}, over `warehouse_ids` (every active warehouse but goods in transit when None; the
    caller scopes it to what its user may see). Warehouses with none of the parts are absent."""
    part_ids = list(part_ids)
    if not part_ids or (warehouse_ids is not None and not warehouse_ids):
        return {}
    balances = StockBalance.objects.filter(part_id__in=part_ids, grade=Grade.GOOD)
    if warehouse_ids is None:
        balances = balances.filter(warehouse__is_active=True).exclude(warehouse__kind=WarehouseKind.TRANSIT)
    else:
        balances = balances.filter(_warehouse_among(list(warehouse_ids)))
    rows = (
        balances.order_by()
        .values("warehouse_id", "part_id")
        .annotate(available=Sum(F("on_hand") - F("reserved")))
        .filter(available__gt=0)
        .values_list("warehouse_id", "part_id", "available")
    )
    found: dict[int, dict[int, Decimal]] = {}
    for warehouse_id, part_id, available in rows:
        found.setdefault(warehouse_id, {})[part_id] = available
    return found


def _warehouse_among(ids: list[int]) -> Q:
    """`warehouse_id IN ids` as the planner likes it with a thousand ids: on PostgreSQL one array
    parameter (`= ANY`), a filter on the few rows the parts' index finds (`core.db.any_of`'s subquery
    made it walk the warehouses instead; a thousand parameters cost 20 ms to send)."""
    if connection.vendor == "postgresql" and len(ids) > 50:
        return Q(
            RawSQL(f"{StockBalance._meta.db_table}.warehouse_id = ANY(%s::bigint[])", (int_array(ids),), BooleanField())
        )
    return Q(warehouse_id__in=ids)


@dataclass(frozen=True)
class Coverage:
    """How far one engineer's stock covers an order's needed parts: "all", "some" or "none" (or
    "" when the order needs nothing), and what is missing of each part short."""

    status: str
    missing: dict[int, Decimal] = field(default_factory=dict)

    @property
    def covers(self) -> bool:
        return self.status in ("all", "")


def coverage(needs: dict[int, Decimal], held: dict[int, Decimal]) -> Coverage:
    if not needs:
        return Coverage("")
    missing = {part: quantity - held.get(part, ZERO) for part, quantity in needs.items()}
    missing = {part: short for part, short in missing.items() if short > 0}
    if not missing:
        return Coverage("all")
    # "some" when he carries at least part of what is needed; "none" when nothing of it.
    if any(held.get(part, ZERO) > 0 for part in needs):
        return Coverage("some", missing)
    return Coverage("none", missing)
