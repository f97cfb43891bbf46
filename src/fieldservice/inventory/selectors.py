from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.inventory.choices import DefectStatus, Grade, WarehouseKind
from fieldservice.inventory.models import (
    DefectivePart,
    FactoryReturn,
    Part,
    SerialUnit,
    StockBalance,
    StockMove,
    Warehouse,
)
from fieldservice.inventory.permissions import sees_all_stock

OPEN_DEFECT_STATUSES = (DefectStatus.OWED, DefectStatus.RETURNING)


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


def defects_for(actor: User) -> QuerySet[DefectivePart]:
    """Defective parts removed from machines that `actor` may see: all for administrators, his
    organisation's engineers' (and warehouses') for staff who see stock (a provider's admin his
    own engineers'), his own for an engineer, none for a customer."""
    if not actor.is_authenticated or not actor.is_active:
        return DefectivePart.objects.none()
    defects = DefectivePart.objects.select_related("part", "engineer", "warehouse", "unit")
    if sees_all_stock(actor):
        return defects
    visible = Q(engineer=actor)
    if can(actor, Capability.VIEW_STOCK) and actor.organisation_id is not None:
        organisation = actor.organisation_id
        visible |= Q(engineer__organisation_id=organisation) | Q(warehouse__organisation_id=organisation)
    return defects.filter(visible)


def get_defect_for(actor: User, pk: int) -> DefectivePart:
    return get_object_or_404(defects_for(actor), pk=pk)


def owed_by(actor: User) -> QuerySet[DefectivePart]:
    """What the engineer still owes: removed parts not yet received by a warehouse, oldest first."""
    return (
        DefectivePart.objects.filter(engineer=actor, status__in=OPEN_DEFECT_STATUSES)
        .select_related("part", "warehouse")
        .order_by("removed_at", "pk")
    )


def awaiting_factory(warehouse: Warehouse) -> QuerySet[DefectivePart]:
    """Defective parts received in `warehouse` and not yet on a return to the factory."""
    return (
        DefectivePart.objects.filter(status=DefectStatus.RETURNED, warehouse=warehouse, factory_line__isnull=True)
        .select_related("part", "engineer")
        .order_by("returned_at", "pk")
    )


def factory_returns_for(actor: User) -> QuerySet[FactoryReturn]:
    """Returns to the factory of the warehouses of `actor`'s organisation (all for administrators)."""
    if not actor.is_authenticated or not actor.is_active:
        return FactoryReturn.objects.none()
    returns = FactoryReturn.objects.select_related("warehouse", "created_by")
    if sees_all_stock(actor):
        return returns
    if not can(actor, Capability.VIEW_STOCK) or actor.organisation_id is None:
        return FactoryReturn.objects.none()
    return returns.filter(warehouse__organisation_id=actor.organisation_id)


def get_factory_return_for(actor: User, pk: int) -> FactoryReturn:
    return get_object_or_404(factory_returns_for(actor), pk=pk)


def van_stock(van: Warehouse | None) -> QuerySet[StockBalance]:
    """The good stock an engineer holds (by part and lot), what he may use on a job."""
    if van is None:
        return StockBalance.objects.none()
    return (
        StockBalance.objects.filter(warehouse=van, grade=Grade.GOOD, on_hand__gt=F("reserved"))
        .select_related("part")
        .order_by("part__part_number", "lot")
    )


def units_in(warehouse: Warehouse | None, part: Part | None = None) -> QuerySet[SerialUnit]:
    """The good serial units in a warehouse (or van), of one part if given."""
    if warehouse is None:
        return SerialUnit.objects.none()
    units = SerialUnit.objects.filter(warehouse=warehouse, grade=Grade.GOOD).select_related("part")
    if part is not None:
        units = units.filter(part=part)
    return units.order_by("part__part_number", "serial")
