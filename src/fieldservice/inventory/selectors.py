from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.inventory.choices import WarehouseKind
from fieldservice.inventory.models import Part, StockBalance, StockCount, StockLevel, StockMove, Warehouse
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


def counts_for(actor: User) -> QuerySet[StockCount]:
    """Counts of the warehouses `actor` sees (an engineer: the counts of his van)."""
    return StockCount.objects.filter(warehouse__in=warehouses_for(actor)).select_related(
        "warehouse", "created_by", "posted_by"
    )


def get_count_for(actor: User, pk: int) -> StockCount:
    return get_object_or_404(counts_for(actor), pk=pk)


def levels_for(actor: User) -> QuerySet[StockLevel]:
    return StockLevel.objects.filter(warehouse__in=warehouses_for(actor)).select_related("warehouse", "part")
