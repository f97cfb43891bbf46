"""HTTP API for defective parts and returns to the factory (under /api/v1/).

The return's status is read-only; it moves by verbs: POST .../ship, POST .../findings."""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.inventory import selectors, services
from fieldservice.inventory.models import FactoryReturn, FactoryReturnLine

router = Router(tags=["inventory"])


class DefectOut(Schema):
    id: int
    part: int = Field(validation_alias="part_id")
    part_number: str
    quantity: Decimal
    serial: str
    status: str
    engineer: int = Field(validation_alias="engineer_id")
    warehouse: int = Field(validation_alias="warehouse_id")
    work_order_id: int | None
    work_order_number: str
    equipment_id: int | None
    equipment_label: str
    fault_category: str
    removed_at: datetime
    returned_at: datetime | None

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number


class FactoryLineOut(Schema):
    id: int
    defect: DefectOut
    reason: str
    finding: str
    credit: Decimal
    finding_note: str
    found_at: datetime | None


class FactoryReturnOut(Schema):
    id: int
    number: str
    warehouse: int = Field(validation_alias="warehouse_id")
    status: str
    carrier: str
    tracking_number: str
    note: str
    created_at: datetime
    shipped_at: datetime | None
    closed_at: datetime | None
    lines: list[FactoryLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.select_related("defect__part").order_by("pk"))


class FactoryLineIn(StrictSchema):
    __model__ = FactoryReturnLine
    defect: Id
    reason: str = ""


class FactoryReturnIn(StrictSchema):
    __model__ = FactoryReturn
    warehouse: Id
    lines: list[FactoryLineIn] = Field(..., max_length=200)
    note: str = ""


class FactoryShipIn(StrictSchema):
    __model__ = FactoryReturn
    carrier: str
    tracking_number: str = ""


class FindingIn(StrictSchema):
    __columns__ = {"note": (FactoryReturnLine, "finding_note")}
    line: Id
    finding: str = Field(..., max_length=10)
    credit: Decimal | str = "0"
    note: str = ""


class FindingsIn(StrictSchema):
    findings: list[FindingIn] = Field(..., max_length=200)


@router.get("/defective-parts", response=list[DefectOut])
@paginate(PageNumberPagination, page_size=50)
def list_defects(request, status: str = "", engineer: Id | None = None):
    """Defective parts removed from machines that the user may see, oldest first."""
    defects = selectors.defects_for(request.user).order_by("removed_at", "pk")
    if status:
        defects = defects.filter(status=status)
    if engineer is not None:
        defects = defects.filter(engineer_id=engineer)
    return defects


@router.get("/factory-returns", response=list[FactoryReturnOut])
@paginate(PageNumberPagination, page_size=50)
def list_factory_returns(request, status: str = ""):
    require(can(request.user, Capability.VIEW_STOCK))
    returns = selectors.factory_returns_for(request.user)
    if status:
        returns = returns.filter(status=status)
    return returns


@router.post("/factory-returns", response={201: FactoryReturnOut})
@idempotent
def create_factory_return(request, payload: FactoryReturnIn):
    warehouse = selectors.warehouses_for(request.user).filter(pk=payload.warehouse).first()
    if warehouse is None:
        raise field_error("warehouse", _("No warehouse with id %(id)s.") % {"id": payload.warehouse}, "does_not_exist")
    visible = selectors.defects_for(request.user)
    lines = []
    for index, line in enumerate(payload.lines):
        defect = visible.filter(pk=line.defect).first()
        if defect is None:
            raise field_error(f"lines[{index}].defect", _("Unknown defective part."), "does_not_exist")
        lines.append({"defect": defect, "reason": line.reason})
    made = services.create_factory_return(actor=request.user, warehouse=warehouse, lines=lines, note=payload.note)
    return 201, made


@router.get("/factory-returns/{int:return_id}", response=FactoryReturnOut)
def get_factory_return(request, return_id: Id):
    return selectors.get_factory_return_for(request.user, return_id)


@router.post("/factory-returns/{int:return_id}/ship", response=FactoryReturnOut)
def ship_factory_return(request, return_id: Id, payload: FactoryShipIn):
    factory_return = selectors.get_factory_return_for(request.user, return_id)
    return services.ship_factory_return(factory_return, actor=request.user, **payload.dict())


@router.post("/factory-returns/{int:return_id}/findings", response=FactoryReturnOut)
def record_findings(request, return_id: Id, payload: FindingsIn):
    factory_return = selectors.get_factory_return_for(request.user, return_id)
    findings = {}
    for item in payload.findings:
        if item.line in findings:
            raise field_error(f"findings[{item.line}]", _("This line is listed twice."), "duplicate")
        findings[item.line] = {"finding": item.finding, "credit": item.credit, "note": item.note}
    return services.record_finding(factory_return, actor=request.user, findings=findings)
