"""HTTP API for product models, their bills of materials and the installed base (under /api/v1/)."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets import labels, selectors, services
from fieldservice.assets.choices import OPERATING_HOURS, MeterSource
from fieldservice.assets.models import Equipment, MeterReading, ProductModel
from fieldservice.assets.permissions import may_change_assets, may_change_models
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.customers.selectors import customers_for, sites_for
from fieldservice.inventory.selectors import parts_for

router = Router(tags=["assets"])


# Schemas. Input schemas forbid unknown fields, so a client sending `status` learns (422) that
# status changes go through the verb endpoints instead of having it silently ignored. In the Patch
# schemas a field typed without None may be left out but not sent as null.


class BomLineOut(Schema):
    part: int = Field(validation_alias="part_id")
    part_number: str
    part_name: str
    quantity: Decimal

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_part_name(obj) -> str:
        return obj.part.name


class ProductModelOut(Schema):
    id: int
    code: str
    name: str
    product_line: str
    default_warranty_months: int
    description: str
    has_image: bool
    is_active: bool

    @staticmethod
    def resolve_has_image(obj) -> bool:
        return bool(obj.image)


class ProductModelDetailOut(ProductModelOut):
    bom: list[BomLineOut]

    @staticmethod
    def resolve_bom(obj):
        return list(selectors.bom_lines_of(obj))


class ProductModelIn(StrictSchema):
    __model__ = ProductModel
    code: str
    name: str
    product_line: str = ""
    default_warranty_months: Int32 = 12
    description: str = ""
    is_active: bool = True


class ProductModelPatch(StrictSchema):
    __model__ = ProductModel
    code: str = None
    name: str = None
    product_line: str = None
    default_warranty_months: Int32 = None
    description: str = None
    is_active: bool = None


class BomLineIn(StrictSchema):
    part: Id
    # A string is accepted too so the service, not the schema, reports a bad quantity on its line.
    quantity: Decimal | str


class BomIn(StrictSchema):
    lines: list[BomLineIn]


class EquipmentOut(Schema):
    id: int
    product_model: int = Field(validation_alias="product_model_id")
    product_model_code: str
    serial_number: str
    lot_number: str
    customer: int = Field(validation_alias="customer_id")
    customer_name: str
    site: int | None = Field(validation_alias="site_id")
    parent: int | None = Field(validation_alias="parent_id")
    installed_on: date | None
    warranty_starts_on: date | None
    warranty_ends_on: date | None
    warranty_state: str
    status: str
    invalidated_reason: str
    public_url: str
    created_at: datetime

    @staticmethod
    def resolve_product_model_code(obj) -> str:
        return obj.product_model.code

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_warranty_state(obj) -> str:
        return str(obj.warranty_state())

    @staticmethod
    def resolve_public_url(obj) -> str:
        return labels.public_url(obj)


class EquipmentIn(StrictSchema):
    __model__ = Equipment
    product_model: Id
    serial_number: str
    customer: Id
    site: Id | None = None
    parent: Id | None = None
    lot_number: str = ""
    installed_on: date | None = None
    warranty_starts_on: date | None = None
    warranty_ends_on: date | None = None


class EquipmentPatch(StrictSchema):
    __model__ = Equipment
    serial_number: str = None
    lot_number: str = None
    customer: Id = None
    site: Id | None = None
    parent: Id | None = None
    installed_on: date | None = None
    warranty_starts_on: date | None = None
    warranty_ends_on: date | None = None


class InvalidateIn(StrictSchema):
    __columns__ = {"reason": (Equipment, "invalidated_reason")}
    reason: str


class FittedPartOut(Schema):
    id: int
    part: int = Field(validation_alias="part_id")
    part_number: str
    part_name: str
    quantity: Decimal
    part_serial_number: str
    fitted_on: date | None
    source: str

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_part_name(obj) -> str:
        return obj.part.name


# Foreign keys arrive as ids. An id the user cannot see is reported on its field like any other
# bad value (422), so a client cannot tell "missing" from "not yours".


def _lookup(queryset, pk, field: str, *, required: bool = False):
    if pk is None:
        if required:
            raise ValidationError({field: _("This field is required.")}, code="required")
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError(
            {field: _("No %(field)s with id %(id)s.") % {"field": field.replace("_", " "), "id": pk}},
            code="does_not_exist",
        )
    return obj


def _equipment_links(user, data: dict) -> dict:
    if "product_model" in data:
        data["product_model"] = _lookup(
            selectors.product_models_for(user), data["product_model"], "product_model", required=True
        )
    if "customer" in data:
        data["customer"] = _lookup(customers_for(user), data["customer"], "customer", required=True)
    if "site" in data:
        data["site"] = _lookup(sites_for(user), data["site"], "site")
    if "parent" in data:
        data["parent"] = _lookup(selectors.equipment_for(user), data["parent"], "parent")
    return data


# Product models


@router.get("/product-models", response=list[ProductModelOut])
@paginate(PageNumberPagination, page_size=50)
def list_product_models(request, q: str = "", is_active: bool | None = None):
    require(can(request.user, Capability.VIEW_ASSETS))
    models = selectors.search_product_models(request.user, q)
    if is_active is not None:
        models = models.filter(is_active=is_active)
    return models


@router.post("/product-models", response={201: ProductModelDetailOut})
@idempotent
def create_product_model(request, payload: ProductModelIn):
    return 201, services.create_product_model(actor=request.user, **payload.model_dump())


@router.get("/product-models/{int:model_id}", response=ProductModelDetailOut)
def get_product_model(request, model_id: Id):
    return selectors.get_product_model_for(request.user, model_id)


@router.patch("/product-models/{int:model_id}", response=ProductModelDetailOut)
def update_product_model(request, model_id: Id, payload: ProductModelPatch):
    product_model = selectors.get_product_model_for(request.user, model_id)
    return services.update_product_model(product_model, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.put("/product-models/{int:model_id}/bom", response=ProductModelDetailOut)
def replace_bom(request, model_id: Id, payload: BomIn):
    product_model = selectors.get_product_model_for(request.user, model_id)
    require(may_change_models(request.user))
    visible_parts = parts_for(request.user)
    lines = [
        (_lookup(visible_parts, line.part, f"lines[{index}].part", required=True), line.quantity)
        for index, line in enumerate(payload.lines)
    ]
    services.set_bom(product_model, actor=request.user, lines=lines)
    return product_model


# Equipment


@router.get("/equipment", response=list[EquipmentOut])
@paginate(PageNumberPagination, page_size=50)
def list_equipment(
    request,
    q: str = "",
    customer: Id | None = None,
    product_model: Id | None = None,
    status: str = "",
    lot_number: str = "",
):
    require(can(request.user, Capability.VIEW_ASSETS))
    return selectors.filter_equipment(
        selectors.search_equipment(request.user, q),
        customer=customer,
        product_model=product_model,
        status=status,
        lot_number=lot_number,
    )


@router.post("/equipment", response={201: EquipmentOut})
@idempotent
def register_equipment(request, payload: EquipmentIn):
    # Checked before the ids are looked up, so a role that may not change gets 403, not 422.
    require(may_change_assets(request.user))
    fields = _equipment_links(request.user, payload.model_dump())
    return 201, services.register_equipment(actor=request.user, **fields)


@router.get("/equipment/by-serial/{serial}", response=list[EquipmentOut])
def find_equipment_by_serial(request, serial: str):
    """Serials are unique per model only, so this is a list."""
    return list(selectors.find_equipment_by_serial(request.user, serial))


@router.get("/equipment/{int:equipment_id}", response=EquipmentOut)
def get_equipment(request, equipment_id: Id):
    return selectors.get_equipment_for(request.user, equipment_id)


@router.patch("/equipment/{int:equipment_id}", response=EquipmentOut)
def update_equipment(request, equipment_id: Id, payload: EquipmentPatch):
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    require(may_change_assets(request.user))
    fields = _equipment_links(request.user, payload.model_dump(exclude_unset=True))
    return services.update_equipment(equipment, actor=request.user, **fields)


@router.post("/equipment/{int:equipment_id}/invalidate", response=EquipmentOut)
def invalidate_equipment(request, equipment_id: Id, payload: InvalidateIn):
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    services.invalidate_equipment(equipment, actor=request.user, reason=payload.reason)
    return selectors.get_equipment_for(request.user, equipment_id)


@router.post("/equipment/{int:equipment_id}/reinstate", response=EquipmentOut)
def reinstate_equipment(request, equipment_id: Id):
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    services.reinstate_equipment(equipment, actor=request.user)
    return selectors.get_equipment_for(request.user, equipment_id)


@router.get("/equipment/{int:equipment_id}/fitted-parts", response=list[FittedPartOut])
def list_fitted_parts(request, equipment_id: Id):
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    return list(selectors.fitted_parts_of(equipment))


# Meter readings ----------------------------------------------------------------


class MeterReadingOut(Schema):
    id: int
    meter: str
    value: Decimal
    unit: str
    read_at: datetime
    source: str
    note: str


class MeterReadingIn(StrictSchema):
    __model__ = MeterReading

    value: Decimal
    meter: str = OPERATING_HOURS
    unit: str = ""
    read_at: datetime | None = None
    note: str = ""


def _reading_source(user) -> str:
    if user.organisation_kind == OrganisationKind.CUSTOMER:
        return MeterSource.CUSTOMER
    return MeterSource.API


@router.get("/equipment/{int:equipment_id}/meter-readings", response=list[MeterReadingOut])
@paginate(PageNumberPagination, page_size=50)
def list_meter_readings(request, equipment_id: Id, meter: str = ""):
    """The machine's readings, newest first (scoped like the machine: a customer only its own)."""
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    readings = equipment.meter_readings.order_by("-read_at", "-pk")
    return readings.filter(meter=meter[:40]) if meter else readings


@router.post("/equipment/{int:equipment_id}/meter-readings", response={201: MeterReadingOut})
@idempotent
def record_meter_reading(request, equipment_id: Id, payload: MeterReadingIn):
    """A reading of one of the machine's counters; lower than an earlier one is a 422 naming `value`."""
    equipment = selectors.get_equipment_for(request.user, equipment_id)
    return 201, services.record_meter_reading(
        equipment, actor=request.user, source=_reading_source(request.user), **payload.model_dump()
    )
