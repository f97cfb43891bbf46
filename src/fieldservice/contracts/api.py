"""HTTP API for service contracts and entitlements (mounted under /api/v1/)."""

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.permissions import Capability, can
from fieldservice.accounts.selectors import service_areas
from fieldservice.assets.selectors import equipment_for
from fieldservice.contracts import selectors, services
from fieldservice.contracts.models import Contract, PriceListItem, SlaPolicy
from fieldservice.contracts.permissions import may_manage_contracts
from fieldservice.contracts.selectors import contracts_for
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.customers.selectors import customers_for
from fieldservice.inventory.selectors import parts_for

router = Router(tags=["contracts"])
# Days ahead a list of expiring contracts may look: ten years, well inside the calendar.
MAX_EXPIRING_WITHIN_DAYS = 3660


class ContractOut(Schema):
    id: int
    number: str
    customer: int = Field(validation_alias="customer_id")
    customer_name: str
    level: str
    status: str
    sla_policy: int = Field(validation_alias="sla_policy_id")
    starts_on: dt.date
    ends_on: dt.date
    equipment: list[int]
    included_visits: int | None
    maintenance_visits_per_year: int | None
    visits_used: int
    parts_coverage: str
    labour_covered: bool
    price_list: int | None = Field(validation_alias="price_list_id")
    annual_fee: Decimal | None
    currency: str
    previous: int | None = Field(validation_alias="previous_id")
    notes: str
    terminated_reason: str
    created_at: datetime

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_equipment(obj) -> list[int]:
        return sorted(machine.pk for machine in obj.equipment.all())

    @staticmethod
    def resolve_visits_used(obj) -> int:
        used = getattr(obj, "used_visits", None)
        return used if used is not None else services.visits_used(obj)


class ContractIn(StrictSchema):
    __model__ = Contract
    customer: Id
    starts_on: dt.date
    ends_on: dt.date
    equipment: list[Id] = []
    level: str = "silver"
    sla_policy: Id | None = None
    included_visits: Int32 | None = None
    maintenance_visits_per_year: Int32 | None = None
    parts_coverage: str = "none"
    labour_covered: bool = True
    price_list: Id | None = None
    # A string is accepted too so the service, not the schema, names a bad amount.
    annual_fee: Decimal | str | None = None
    currency: str = "CNY"
    notes: str = ""


class ContractPatch(StrictSchema):
    __model__ = Contract
    starts_on: dt.date = None
    ends_on: dt.date = None
    equipment: list[Id] = None
    level: str = None
    sla_policy: Id = None
    included_visits: Int32 | None = None
    maintenance_visits_per_year: Int32 | None = None
    parts_coverage: str = None
    labour_covered: bool = None
    price_list: Id | None = None
    annual_fee: Decimal | str | None = None
    currency: str = None
    notes: str = None


class TerminateIn(StrictSchema):
    __columns__ = {"reason": (Contract, "terminated_reason")}
    reason: str


class ExtendIn(StrictSchema):
    __model__ = Contract
    ends_on: dt.date
    level: str = None
    sla_policy: Id = None
    included_visits: Int32 | None = None
    maintenance_visits_per_year: Int32 | None = None
    parts_coverage: str = None
    labour_covered: bool = None
    price_list: Id | None = None
    annual_fee: Decimal | str | None = None
    currency: str = None
    notes: str = None


class EntitlementOut(Schema):
    equipment: int
    on: dt.date
    entitlement: str
    reason: str
    contract: int | None
    contract_number: str | None
    sla_policy: int | None
    sla_policy_name: str | None


# Foreign keys arrive as ids. An id the user cannot see is reported on its field like any
# other bad value (422), so a client cannot tell "missing" from "not yours".


def _lookup(queryset, pk, field: str):
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: _("There is nothing with id %(id)s here.") % {"id": pk}}, code="does_not_exist")
    return obj


def _links(user, data: dict) -> dict:
    if "customer" in data:
        data["customer"] = _lookup(customers_for(user), data["customer"], "customer")
    if "sla_policy" in data:
        data["sla_policy"] = _lookup(SlaPolicy.objects.all(), data["sla_policy"], "sla_policy")
    if "price_list" in data:
        data["price_list"] = _lookup(selectors.price_lists_for(user), data["price_list"], "price_list")
    if "equipment" in data:
        pks = list(dict.fromkeys(data["equipment"] or []))
        machines = {machine.pk: machine for machine in equipment_for(user).filter(pk__in=pks)}
        for pk in pks:
            if pk not in machines:
                raise ValidationError(
                    {"equipment": _("There is nothing with id %(id)s here.") % {"id": pk}}, code="does_not_exist"
                )
        data["equipment"] = [machines[pk] for pk in pks]
    return data


def _require_manage(user) -> None:
    # Checked before ids are looked up, so a role that may not change gets 403, not 422.
    require(may_manage_contracts(user))


@router.get("/contracts", response=list[ContractOut])
@paginate(PageNumberPagination, page_size=50)
def list_contracts(
    request,
    q: str = "",
    status: str = "",
    level: str = "",
    customer: Id | None = None,
    expiring_within: Annotated[int, Field(ge=0, le=MAX_EXPIRING_WITHIN_DAYS)] | None = None,
):
    require(can(request.user, Capability.VIEW_CONTRACTS))
    return selectors.contract_list_for(
        request.user, q, status=status, level=level, customer=customer, expiring_within=expiring_within
    ).prefetch_related("equipment")


@router.get("/contracts/{int:contract_id}", response=ContractOut)
def get_contract(request, contract_id: Id):
    return selectors.get_contract_for(request.user, contract_id)


@router.post("/contracts", response={201: ContractOut}, summary="Write a draft contract")
@idempotent
def create_contract(request, payload: ContractIn):
    _require_manage(request.user)
    fields = _links(request.user, payload.model_dump())
    return 201, services.create_contract(actor=request.user, **fields)


@router.patch("/contracts/{int:contract_id}", response=ContractOut, summary="Change a draft (or the notes)")
def update_contract(request, contract_id: Id, payload: ContractPatch):
    contract = selectors.get_contract_for(request.user, contract_id)
    _require_manage(request.user)
    fields = _links(request.user, payload.model_dump(exclude_unset=True))
    return services.update_contract(contract, actor=request.user, **fields)


@router.post("/contracts/{int:contract_id}/activate", response=ContractOut)
def activate_contract(request, contract_id: Id):
    contract = selectors.get_contract_for(request.user, contract_id)
    _require_manage(request.user)
    return services.activate_contract(contract, actor=request.user)


@router.post("/contracts/{int:contract_id}/terminate", response=ContractOut)
def terminate_contract(request, contract_id: Id, payload: TerminateIn):
    contract = selectors.get_contract_for(request.user, contract_id)
    _require_manage(request.user)
    return services.terminate_contract(contract, actor=request.user, reason=payload.reason)


@router.post(
    "/contracts/{int:contract_id}/extend",
    response={201: ContractOut},
    summary="Draft the next period (starts the day after this one ends)",
)
def extend_contract(request, contract_id: Id, payload: ExtendIn):
    contract = selectors.get_contract_for(request.user, contract_id)
    _require_manage(request.user)
    fields = _links(request.user, payload.model_dump(exclude_unset=True))
    return 201, services.extend_contract(contract, actor=request.user, **fields)


@router.get(
    "/equipment/{int:equipment_id}/entitlement",
    response=EntitlementOut,
    summary="What a visit to this machine would be entitled to (today, or on `on`)",
)
def equipment_entitlement(request, equipment_id: Id, on: dt.date | None = None):
    machine = get_object_or_404(equipment_for(request.user), pk=equipment_id)
    on = on or timezone.localdate()
    decision = services.decide_entitlement(customer=machine.customer, equipment=machine, priority="normal", on=on)
    contract = decision.contract
    visible = contract is not None and contracts_for(request.user).filter(pk=contract.pk).exists()
    return {
        "equipment": machine.pk,
        "on": on,
        "entitlement": decision.entitlement,
        "reason": decision.reason,
        "contract": contract.pk if visible else None,
        "contract_number": contract.number if contract is not None else None,
        "sla_policy": decision.sla_policy.pk if decision.sla_policy else None,
        "sla_policy_name": decision.sla_policy.name if decision.sla_policy else None,
    }


# Price lists and their prices


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    is_default: bool
    is_active: bool


class PriceOut(Schema):
    id: int
    price_list: int = Field(validation_alias="price_list_id")
    kind: str
    part: int | None = Field(validation_alias="part_id")
    service_type: str = Field(description="Empty: any service type.")
    engineer_level: str = Field(description="Empty: any engineer level.")
    area: int | None = Field(validation_alias="area_id", description="The zone of a fixed travel fee.")
    name: str = Field(description="The name of a service item.")
    unit_price: Decimal


class PriceIn(StrictSchema):
    __model__ = PriceListItem
    # Plain strings: an unknown kind, type or level gets the service's field error.
    kind: str
    unit_price: Decimal | str
    part: Id | None = None
    service_type: str = ""
    engineer_level: str = ""
    area: Id | None = None
    name: str = ""


@router.get("/price-lists", response=list[PriceListOut], summary="Price lists (our own staff)")
@paginate(PageNumberPagination, page_size=50)
def list_price_lists(request):
    return selectors.price_lists_for(request.user)


@router.get("/price-lists/{int:price_list_id}/prices", response=list[PriceOut], summary="The prices of a list")
@paginate(PageNumberPagination, page_size=50)
def list_prices(request, price_list_id: Id):
    price_list = selectors.get_price_list_for(request.user, price_list_id)
    return selectors.price_items_for(request.user).filter(price_list=price_list)


@router.post(
    "/price-lists/{int:price_list_id}/prices",
    response={201: PriceOut},
    summary="Set a price: labour or call-out by service type and engineer level, per km, a zone's fee, "
    "a service item or a part (setting it again changes it)",
)
@idempotent
def set_price(request, price_list_id: Id, payload: PriceIn):
    price_list = selectors.get_price_list_for(request.user, price_list_id)
    _require_manage(request.user)
    data = payload.model_dump()
    data["part"] = _lookup(parts_for(request.user), data["part"], "part")
    data["area"] = _lookup(service_areas(), data["area"], "area")
    return 201, services.set_price(price_list, actor=request.user, **data)


@router.post("/prices/{int:price_id}/remove", response={204: None}, summary="Remove a price from its list")
def remove_price(request, price_id: Id):
    item = selectors.get_price_item_for(request.user, price_id)
    _require_manage(request.user)
    services.remove_price(item, actor=request.user)
    return 204, None
