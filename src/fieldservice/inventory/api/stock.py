"""HTTP API for warehouses and stock (under /api/v1/): what is where, the ledger, and the keeper's
moves as verbs (receive, scrap). Quantities change only through those verbs, never by a PATCH."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import Grade
from fieldservice.inventory.models import Bin, SerialUnit, StockMove, Warehouse

router = Router(tags=["inventory"])


class BinOut(Schema):
    id: int
    code: str
    description: str


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    organisation: int = Field(validation_alias="organisation_id")
    organisation_name: str
    engineer: int | None = Field(validation_alias="engineer_id")
    area: int | None = Field(validation_alias="area_id")
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    is_active: bool
    keepers: list[int]
    bins: list[BinOut]

    @staticmethod
    def resolve_organisation_name(obj) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_keepers(obj) -> list[int]:
        return [user.pk for user in obj.keepers.all()]

    @staticmethod
    def resolve_bins(obj) -> list[Bin]:
        return list(obj.bins.all())


class WarehouseIn(StrictSchema):
    __model__ = Warehouse
    organisation: Id | None = None  # default: the caller's own organisation
    kind: str
    code: str
    name: str
    area: Id | None = None
    address: str = ""
    latitude: float | str | None = None
    longitude: float | str | None = None
    is_active: bool = True


class WarehousePatch(StrictSchema):
    __model__ = Warehouse
    code: str = None
    name: str = None
    area: Id | None = None
    address: str = None
    latitude: float | str | None = None
    longitude: float | str | None = None
    is_active: bool = None
    keepers: list[Id] = None


class BalanceOut(Schema):
    id: int
    warehouse: int = Field(validation_alias="warehouse_id")
    warehouse_code: str
    part: int = Field(validation_alias="part_id")
    part_number: str
    lot: str
    grade: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    bin: int | None = Field(validation_alias="bin_id")

    @staticmethod
    def resolve_warehouse_code(obj) -> str:
        return obj.warehouse.code

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number


class MoveOut(Schema):
    id: int
    at: datetime
    reason: str
    warehouse: int = Field(validation_alias="warehouse_id")
    warehouse_code: str
    part: int = Field(validation_alias="part_id")
    part_number: str
    lot: str
    grade: str
    serial_unit: int | None = Field(validation_alias="unit_id")
    serial: str | None
    quantity: Decimal
    reserved: Decimal
    on_hand_after: Decimal
    unit_cost: Decimal
    reference: str
    document_kind: str
    document_id: int | None
    work_order_id: int | None
    equipment_id: int | None
    note: str
    actor: int | None = Field(validation_alias="actor_id")

    @staticmethod
    def resolve_warehouse_code(obj) -> str:
        return obj.warehouse.code

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_serial(obj) -> str | None:
        return obj.unit.serial if obj.unit_id else None


def _moves_of_post(move: StockMove):
    """The ledger rows written by the same post as `move` (one receipt of several serial units)."""
    return StockMove.objects.filter(
        at=move.at,
        actor_id=move.actor_id,
        document_kind=move.document_kind,
        warehouse_id=move.warehouse_id,
        part_id=move.part_id,
        reason=move.reason,
    ).select_related("warehouse", "part", "unit")


class StockDocumentOut(Schema):
    """What one verb (a receipt, a scrap) wrote: its ledger rows. `id` is its first row's."""

    id: int
    reason: str
    warehouse: int = Field(validation_alias="warehouse_id")
    part: int = Field(validation_alias="part_id")
    reference: str
    quantity: Decimal
    moves: list[MoveOut]

    @staticmethod
    def resolve_quantity(obj) -> Decimal:
        return sum((move.quantity for move in _moves_of_post(obj)), Decimal(0))

    @staticmethod
    def resolve_moves(obj) -> list[StockMove]:
        return list(_moves_of_post(obj).order_by("pk"))


class ReceiveIn(StrictSchema):
    __model__ = StockMove
    __columns__ = {"serials": (SerialUnit, "serial")}
    part: Id
    # A string is accepted too so the service, not the schema, reports a bad quantity on its field.
    quantity: Decimal | str
    unit_cost: Decimal | str | None = None
    lot: str = ""
    serials: list[str] = []
    reference: str = ""
    note: str = ""


class ScrapIn(StrictSchema):
    __model__ = StockMove
    __columns__ = {"serial": (SerialUnit, "serial")}
    part: Id
    quantity: Decimal | str
    lot: str = ""
    grade: str = Grade.GOOD
    serial: str = ""
    note: str


class UnitOut(Schema):
    id: int
    part: int = Field(validation_alias="part_id")
    part_number: str
    serial: str
    lot: str
    status: str
    grade: str
    warehouse: int | None = Field(validation_alias="warehouse_id")
    warehouse_code: str | None
    equipment_id: int | None
    equipment_label: str
    received_at: datetime
    moves: list[MoveOut]

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_warehouse_code(obj) -> str | None:
        return obj.warehouse.code if obj.warehouse_id else None

    @staticmethod
    def resolve_moves(obj) -> list[StockMove]:
        return list(obj.visible_moves)


def _warehouses(request):
    return selectors.warehouses_for(request.user).select_related("organisation").prefetch_related("keepers", "bins")


def _part(request, pk: int):
    part = selectors.parts_for(request.user).filter(pk=pk).first()
    if part is None:
        raise field_error("part", _("Unknown part."), "invalid_choice")
    return part


@router.get("/warehouses", response=list[WarehouseOut])
@paginate(PageNumberPagination, page_size=50)
def list_warehouses(request, q: str = "", kind: str = "", is_active: bool | None = None):
    warehouses = _warehouses(request)
    if q.strip():
        warehouses = warehouses.filter(Q(code__icontains=q.strip()) | Q(name__icontains=q.strip()))
    if kind:
        warehouses = warehouses.filter(kind=kind)
    if is_active is not None:
        warehouses = warehouses.filter(is_active=is_active)
    return warehouses.order_by("kind", "code")


@router.get("/warehouses/{int:warehouse_id}", response=WarehouseOut)
def get_warehouse(request, warehouse_id: Id):
    return get_object_or_404(_warehouses(request), pk=warehouse_id)


@router.post("/warehouses", response={201: WarehouseOut})
@idempotent
def create_warehouse(request, payload: WarehouseIn):
    fields = payload.model_dump()
    organisation_id = fields.pop("organisation") or request.user.organisation_id
    # Only an organisation the caller may open a warehouse for: another's id is as unknown as a
    # made-up one, so the answer tells nothing of which exist.
    organisations = selectors.warehouse_organisations_for(request.user)
    organisation = organisations.filter(pk=organisation_id).first() if organisation_id else None
    if organisation is None:
        raise field_error("organisation", _("Unknown organisation."), "invalid_choice")
    warehouse = services.create_warehouse(actor=request.user, organisation=organisation, **fields)
    return 201, warehouse


@router.patch("/warehouses/{int:warehouse_id}", response=WarehouseOut)
def update_warehouse(request, warehouse_id: Id, payload: WarehousePatch):
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    fields = payload.model_dump(exclude_unset=True)
    keepers = fields.pop("keepers", None)
    if fields:
        services.update_warehouse(warehouse, actor=request.user, **fields)
    if keepers is not None:
        people = list(selectors.possible_keepers(warehouse).filter(pk__in=keepers))
        if len(people) != len(set(keepers)):
            raise field_error("keepers", _("Only parts keepers of the warehouse's organisation keep it."), "invalid")
        services.set_keepers(warehouse, actor=request.user, keepers=people)
    return get_object_or_404(_warehouses(request), pk=warehouse.pk)


@router.post("/warehouses/{int:warehouse_id}/receive", response={201: StockDocumentOut})
@idempotent
def receive(request, warehouse_id: Id, payload: ReceiveIn):
    """Goods arriving from a supplier or the factory: on-hand goes up, the part's average cost moves."""
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    fields = payload.model_dump()
    part = _part(request, fields.pop("part"))
    moves = services.receive_stock(warehouse, actor=request.user, part=part, **fields)
    return 201, moves[0]


@router.post("/warehouses/{int:warehouse_id}/scrap", response={201: StockDocumentOut})
@idempotent
def scrap(request, warehouse_id: Id, payload: ScrapIn):
    """Stock thrown away for good (broken in the warehouse, expired); the note says why."""
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    fields = payload.model_dump()
    part = _part(request, fields.pop("part"))
    moves = services.scrap_stock(warehouse, actor=request.user, part=part, **fields)
    return 201, moves[0]


@router.get("/stock", response=list[BalanceOut])
@paginate(PageNumberPagination, page_size=50)
def list_stock(request, warehouse: Id | None = None, part: Id | None = None, grade: str = "", q: str = ""):
    balances = selectors.balances_for(request.user).filter(Q(on_hand__gt=0) | Q(reserved__gt=0))
    if warehouse is not None:
        balances = balances.filter(warehouse_id=warehouse)
    if part is not None:
        balances = balances.filter(part_id=part)
    if grade:
        balances = balances.filter(grade=grade)
    if q.strip():
        balances = balances.filter(Q(part__part_number__icontains=q.strip()) | Q(part__name__icontains=q.strip()))
    return balances.order_by("warehouse__code", "part__part_number", "lot", "grade")


@router.get("/stock-moves", response=list[MoveOut])
@paginate(PageNumberPagination, page_size=50)
def list_moves(
    request,
    part: Id | None = None,
    warehouse: Id | None = None,
    reason: str = "",
    reference: str = "",
):
    moves = selectors.moves_for(request.user)
    if part is not None:
        moves = moves.filter(part_id=part)
    if warehouse is not None:
        moves = moves.filter(warehouse_id=warehouse)
    if reason:
        moves = moves.filter(reason=reason)
    if reference:
        moves = moves.filter(reference=reference)
    return moves.order_by("-at", "-pk")


@router.get("/serial-units/{int:unit_id}", response=UnitOut)
def get_unit(request, unit_id: Id):
    unit = selectors.get_unit_for(request.user, unit_id)
    unit.visible_moves = selectors.moves_for(request.user).filter(unit=unit).order_by("at", "pk")
    return unit
