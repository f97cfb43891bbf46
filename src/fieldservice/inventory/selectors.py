from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.db import any_of, int_array
from fieldservice.inventory.choices import DefectStatus, Grade, WarehouseKind
from fieldservice.inventory.models import (
    DefectivePart,
    FactoryReturn,
    Part,
    SerialUnit,
    StockBalance,
    StockCount,
    StockLevel,
    StockMove,
    Transfer,
    Warehouse,
)
from fieldservice.inventory.permissions import may_operate, sees_all_stock

ZERO = Decimal("0")
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


def below_minimum(balances: QuerySet[StockBalance]) -> QuerySet[StockBalance]:
    """Good stock under the minimum its warehouse should hold of the part (a stock level)."""
    short = StockLevel.objects.filter(
        warehouse=OuterRef("warehouse"), part=OuterRef("part"), minimum__gt=OuterRef("on_hand")
    )
    return balances.filter(Exists(short), grade=Grade.GOOD)


def units_for(actor: User) -> QuerySet[SerialUnit]:
    """Serial units in a warehouse `actor` sees, or that passed through one (fitted, scrapped, returned)."""
    visible = warehouses_for(actor)
    passed = StockMove.objects.filter(unit=OuterRef("pk"), warehouse__in=visible)
    return SerialUnit.objects.filter(Q(warehouse__in=visible) | Exists(passed)).select_related("part", "warehouse")


def get_unit_for(actor: User, pk: int) -> SerialUnit:
    return get_object_or_404(units_for(actor), pk=pk)


def operable_warehouses_for(actor: User, *, receiving: bool = False) -> QuerySet[Warehouse]:
    """The active warehouses `actor` may move stock in (receiving: the kinds goods arrive in from outside)."""
    warehouses = warehouses_for(actor).filter(is_active=True).exclude(kind=WarehouseKind.TRANSIT)
    if receiving:
        warehouses = warehouses.exclude(kind=WarehouseKind.VAN)
    allowed = [warehouse.pk for warehouse in warehouses.prefetch_related("keepers") if may_operate(actor, warehouse)]
    return Warehouse.objects.filter(pk__in=allowed)


def warehouse_organisations_for(actor: User) -> QuerySet[Organisation]:
    """The organisations `actor` may open a warehouse for: any (but a customer) for an
    administrator, his own company for a keeper or a provider administrator."""
    if sees_all_stock(actor):
        return Organisation.objects.exclude(kind=OrganisationKind.CUSTOMER)
    if not can(actor, Capability.MANAGE_STOCK) or actor.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=actor.organisation_id).exclude(kind=OrganisationKind.CUSTOMER)


def possible_keepers(warehouse: Warehouse) -> QuerySet[User]:
    """The people of the warehouse's organisation who may keep stock."""
    people = User.objects.filter(organisation_id=warehouse.organisation_id, is_active=True)
    return User.objects.filter(pk__in=[user.pk for user in people if can(user, Capability.MANAGE_STOCK)])


def transfers_for(actor: User) -> QuerySet[Transfer]:
    """Requisitions, transfers and returns `actor` may see: those from or to a warehouse whose stock
    he sees (an engineer: those of his own van)."""
    places = warehouses_for(actor)
    return (
        Transfer.objects.filter(Q(source__in=places) | Q(destination__in=places))
        .select_related("source", "destination", "requested_by")
        .order_by("-requested_at", "-pk")
    )


def get_transfer_for(actor: User, pk: int) -> Transfer:
    return get_object_or_404(transfers_for(actor), pk=pk)


def van_transfers_for(engineer: User) -> QuerySet[Transfer]:
    """The requests and returns of the engineer's own van (his phone pages), whoever wrote them."""
    return (
        Transfer.objects.filter(
            Q(source__kind=WarehouseKind.VAN, source__engineer=engineer)
            | Q(destination__kind=WarehouseKind.VAN, destination__engineer=engineer)
        )
        .select_related("source", "destination")
        .order_by("-requested_at", "-pk")
    )


def get_van_transfer_for(engineer: User, pk: int) -> Transfer:
    return get_object_or_404(van_transfers_for(engineer), pk=pk)


def filter_transfers(transfers: QuerySet[Transfer], *, q="", kind="", status="", warehouse=None, urgent=None):
    """The filters the list page and the API share."""
    q = (q or "").strip()
    if q:
        transfers = transfers.filter(Q(number__icontains=q) | Q(work_order_number__icontains=q))
    if kind:
        transfers = transfers.filter(kind=kind)
    if status:
        transfers = transfers.filter(status=status)
    if warehouse is not None:
        transfers = transfers.filter(Q(source=warehouse) | Q(destination=warehouse))
    if urgent is not None:
        transfers = transfers.filter(urgent=urgent)
    return transfers


def van_stock_of(engineer: User) -> QuerySet[StockBalance]:
    """What the engineer holds in his own van: each part, lot and grade with stock or a reservation."""
    return (
        StockBalance.objects.filter(warehouse__kind=WarehouseKind.VAN, warehouse__engineer=engineer)
        .filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
        .select_related("part")
        .order_by("part__part_number", "grade", "lot")
    )


def transfer_places_for(actor: User) -> QuerySet[Warehouse]:
    """The places `actor` may name on a requisition, transfer or return: those whose stock he sees,
    and the warehouses an engineer may ask for parts (the service decides what he may do)."""
    return Warehouse.objects.filter(
        Q(pk__in=warehouses_for(actor).values("pk")) | Q(pk__in=request_sources_for(actor).values("pk"))
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
