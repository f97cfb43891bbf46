"""HTTP API of maintenance plans, under /api/v1/maintenance/: plans (scoped to the caller: a
customer sees the plans covering its machines), their creation and change, the due visits (a
provider only those of orders dispatched to it), and the "generate now" verb."""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.models import User
from fieldservice.assets.selectors import equipment_for, product_models_for
from fieldservice.contracts.selectors import contracts_for
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.field.models import JobTemplate
from fieldservice.inventory.selectors import parts_for
from fieldservice.maintenance.models import MaintenancePlan
from fieldservice.maintenance.selectors import plans as selectors
from fieldservice.maintenance.services import plans as services

router = Router()


class PlanPartOut(Schema):
    part: int
    part_number: str
    quantity: Decimal


class PlanOut(Schema):
    id: int
    name: str
    scope: str
    equipment: int | None
    product_model: int | None
    contract: int | None
    interval_months: int | None
    calendar_base: str
    interval_hours: int | None
    meter: str
    job_template: int | None
    lead_days: int
    service_type: str
    priority: str
    owner: int | None
    is_active: bool
    starts_on: dt.date
    ends_on: dt.date | None
    notes: str
    parts: list[PlanPartOut]

    @staticmethod
    def resolve_equipment(obj) -> int | None:
        return obj.equipment_id

    @staticmethod
    def resolve_product_model(obj) -> int | None:
        return obj.product_model_id

    @staticmethod
    def resolve_contract(obj) -> int | None:
        return obj.contract_id

    @staticmethod
    def resolve_job_template(obj) -> int | None:
        return obj.job_template_id

    @staticmethod
    def resolve_owner(obj) -> int | None:
        return obj.owner_id

    @staticmethod
    def resolve_parts(obj) -> list[dict]:
        return [
            {"part": row.part_id, "part_number": row.part.part_number, "quantity": row.quantity}
            for row in obj.parts.select_related("part")
        ]


class PlanPartIn(StrictSchema):
    part: Id
    quantity: Decimal = Decimal(1)


class PlanIn(StrictSchema):
    __model__ = MaintenancePlan

    name: str
    scope: str
    equipment: Id | None = None
    product_model: Id | None = None
    contract: Id | None = None
    interval_months: Int32 | None = None
    calendar_base: str = "installation"
    interval_hours: Int32 | None = None
    meter: str = "operating_hours"
    job_template: Id | None = None
    lead_days: Int32 = 14
    service_type: str = "maintenance"
    priority: str = "normal"
    owner: Id | None = None
    is_active: bool = True
    starts_on: dt.date
    ends_on: dt.date | None = None
    notes: str = ""
    parts: list[PlanPartIn] = []


class PlanPatch(StrictSchema):
    __model__ = MaintenancePlan

    name: str | None = None
    interval_months: Int32 | None = None
    calendar_base: str | None = None
    interval_hours: Int32 | None = None
    meter: str | None = None
    job_template: Id | None = None
    lead_days: Int32 | None = None
    service_type: str | None = None
    priority: str | None = None
    owner: Id | None = None
    is_active: bool | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    notes: str | None = None
    parts: list[PlanPartIn] | None = None


class DueVisitOut(Schema):
    id: int
    plan: int
    plan_name: str
    equipment: int
    due_on: dt.date
    reason: str
    meter_value: Decimal | None
    work_order: int | None
    work_order_number: str | None

    @staticmethod
    def resolve_plan(obj) -> int:
        return obj.plan_id

    @staticmethod
    def resolve_plan_name(obj) -> str:
        return obj.plan.name

    @staticmethod
    def resolve_equipment(obj) -> int:
        return obj.equipment_id

    @staticmethod
    def resolve_work_order(obj) -> int | None:
        return obj.work_order_id

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number if obj.work_order_id else None


class GenerationOut(Schema):
    plans: int
    machines: int
    due_written: int
    orders_opened: int


def _links(user, data: dict) -> dict:
    """Ids of the body turned into the rows they name, as the caller may see them (422 naming the
    field for an id that is missing or not the caller's)."""
    lookups = {
        "equipment": lambda pk: equipment_for(user).filter(pk=pk).first(),
        "product_model": lambda pk: product_models_for(user).filter(pk=pk).first(),
        "contract": lambda pk: contracts_for(user).filter(pk=pk).first(),
        "job_template": lambda pk: JobTemplate.objects.filter(pk=pk).first(),
        "owner": lambda pk: User.objects.filter(pk=pk, is_active=True, organisation__kind="own").first(),
    }
    for name, lookup in lookups.items():
        if data.get(name) is not None:
            found = lookup(data[name])
            if found is None:
                raise field_error(name, _("Not found."), "not_found")
            data[name] = found
    if data.get("parts") is not None:
        parts = []
        for index, row in enumerate(data["parts"]):
            part = parts_for(user).filter(pk=row["part"]).first()
            if part is None:
                raise field_error(f"parts[{index}].part", _("Not found."), "not_found")
            parts.append((part, row["quantity"]))
        data["parts"] = parts
    return data


@router.get("/plans", response=list[PlanOut])
@paginate(PageNumberPagination, page_size=50)
def list_plans(request, q: str = "", scope: str = "", active: str = ""):
    return selectors.search_plans(request.user, q[:100], scope=scope[:20], active=active[:3]).order_by("name", "pk")


@router.get("/plans/{int:plan_id}", response=PlanOut)
def get_plan(request, plan_id: Id):
    return selectors.get_plan_for(request.user, plan_id)


@router.post("/plans", response={201: PlanOut})
@idempotent
def create_plan(request, payload: PlanIn):
    require(services.may_manage_plans(request.user))
    data = _links(request.user, payload.model_dump())
    parts = data.pop("parts")
    return 201, services.create_plan(actor=request.user, parts=parts, **data)


@router.patch("/plans/{int:plan_id}", response=PlanOut)
def update_plan(request, plan_id: Id, payload: PlanPatch):
    plan = selectors.get_plan_for(request.user, plan_id)
    require(services.may_manage_plans(request.user))
    data = _links(request.user, payload.model_dump(exclude_unset=True))
    parts = data.pop("parts", None)
    return services.update_plan(plan, actor=request.user, parts=parts, **data)


@router.post("/plans/generate", response=GenerationOut)
def generate(request):
    """The periodic check's own run, now: the visits due within each plan's lead days."""
    summary = services.generate_due_visits(actor=request.user)
    return summary


@router.get("/due-visits", response=list[DueVisitOut])
@paginate(PageNumberPagination, page_size=50)
def list_due_visits(
    request, q: str = "", start: dt.date | None = None, end: dt.date | None = None, plan: Id | None = None
):
    visits = selectors.filter_due_visits(
        selectors.due_visits_for(request.user), text=q[:100], start=start, end=end, plan=plan
    )
    return visits.order_by("due_on", "pk")


@router.get("/due-visits/{int:visit_id}", response=DueVisitOut)
def get_due_visit(request, visit_id: Id):
    return get_object_or_404(selectors.due_visits_for(request.user), pk=visit_id)
