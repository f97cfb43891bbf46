"""HTTP API of parts plans (备件计划), under /api/v1/: a warehouse's suggested levels, setting the
levels, and one refill request for every part below its minimum."""

from decimal import Decimal

from ninja import Query, Router, Schema

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.api import Id, StrictSchema
from fieldservice.core.errors import require
from fieldservice.inventory import selectors, services
from fieldservice.inventory.services.plans import MAX_MONTHS

router = Router(tags=["inventory"])


class SuggestionOut(Schema):
    part: int
    part_number: str
    part_name: str
    installed: Decimal
    planned: Decimal
    consumed: Decimal
    monthly: Decimal
    suggested_minimum: Decimal
    suggested_maximum: Decimal
    minimum: Decimal | None
    maximum: Decimal | None
    on_hand: Decimal
    incoming: Decimal
    gap: Decimal


class LevelIn(StrictSchema):
    part: Id
    minimum: Decimal | str
    maximum: Decimal | str


class LevelsIn(StrictSchema):
    levels: list[LevelIn]


class LevelOut(Schema):
    part: int
    minimum: Decimal
    maximum: Decimal


class RefillIn(StrictSchema):
    source: Id


class RefillOut(Schema):
    transfer: int | None
    number: str | None


@router.get("/warehouses/{int:warehouse_id}/plan", response=list[SuggestionOut])
def get_plan(request, warehouse_id: Id, months: int = Query(12, ge=1, le=MAX_MONTHS)):
    require(can(request.user, Capability.VIEW_STOCK))
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    return [
        {
            "part": row.part.pk,
            "part_number": row.part.part_number,
            "part_name": row.part.name,
            "installed": row.installed,
            "planned": row.planned,
            "consumed": row.consumed,
            "monthly": row.monthly,
            "suggested_minimum": row.minimum,
            "suggested_maximum": row.maximum,
            "minimum": row.level_minimum,
            "maximum": row.level_maximum,
            "on_hand": row.on_hand,
            "incoming": row.incoming,
            "gap": row.gap,
        }
        for row in services.suggest_levels(actor=request.user, warehouse=warehouse, months=months)
    ]


@router.put("/warehouses/{int:warehouse_id}/levels", response=list[LevelOut])
def set_levels(request, warehouse_id: Id, payload: LevelsIn):
    """Set the minimum and maximum of the parts listed (0 and 0 removes a part's level); parts not
    listed keep theirs."""
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    levels = services.apply_levels(
        actor=request.user, warehouse=warehouse, levels=[item.model_dump() for item in payload.levels]
    )
    return [{"part": level.part_id, "minimum": level.minimum, "maximum": level.maximum} for level in levels]


@router.post("/warehouses/{int:warehouse_id}/refill", response=RefillOut)
def refill(request, warehouse_id: Id, payload: RefillIn):
    """One transfer request from `source` for every part below its minimum; `transfer` is null when
    none is. Sent twice, the second finds the first request incoming and asks for nothing."""
    warehouse = selectors.get_warehouse_for(request.user, warehouse_id)
    source = selectors.get_warehouse_for(request.user, payload.source)
    transfer = services.request_refills(actor=request.user, warehouse=warehouse, source=source)
    return {"transfer": transfer.pk if transfer else None, "number": transfer.number if transfer else None}
