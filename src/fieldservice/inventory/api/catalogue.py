"""HTTP API for the parts catalogue (under /api/v1/)."""

from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.inventory import selectors, services
from fieldservice.inventory.models import Part

router = Router(tags=["inventory"])


class PartOut(Schema):
    id: int
    part_number: str
    name: str
    specification: str
    unit: str
    is_active: bool


class PartIn(StrictSchema):
    __model__ = Part
    part_number: str
    name: str
    specification: str = ""
    unit: str = "pcs"
    is_active: bool = True


class PartPatch(StrictSchema):
    __model__ = Part
    part_number: str = None
    name: str = None
    specification: str = None
    unit: str = None
    is_active: bool = None


@router.get("/parts", response=list[PartOut])
@paginate(PageNumberPagination, page_size=50)
def list_parts(request, q: str = "", is_active: bool | None = None):
    require(can(request.user, Capability.VIEW_PARTS))
    parts = selectors.parts_for(request.user, q)
    if is_active is not None:
        parts = parts.filter(is_active=is_active)
    return parts


@router.post("/parts", response={201: PartOut})
@idempotent
def create_part(request, payload: PartIn):
    return 201, services.create_part(actor=request.user, **payload.model_dump())


@router.get("/parts/{int:part_id}", response=PartOut)
def get_part(request, part_id: Id):
    return selectors.get_part_for(request.user, part_id)


@router.patch("/parts/{int:part_id}", response=PartOut)
def update_part(request, part_id: Id, payload: PartPatch):
    part = selectors.get_part_for(request.user, part_id)
    return services.update_part(part, actor=request.user, **payload.model_dump(exclude_unset=True))
