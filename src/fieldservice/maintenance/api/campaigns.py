"""HTTP API of campaigns and recalls (under /api/v1/maintenance/campaigns).

The status is read-only; it moves by verbs: POST .../launch, .../close, .../cancel. POST
.../preview counts the machines a selection picks (of a body, or of a saved campaign). A machine
of a launched campaign is marked refused or unreachable by POST .../targets/{id}/mark. Reads are
scoped as the pages are: a customer sees his own machines' targets only, a provider the machines
whose orders were dispatched to it."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.maintenance.models.campaigns import Campaign, CampaignTarget
from fieldservice.maintenance.permissions import may_manage_campaigns, may_view_campaigns
from fieldservice.maintenance.selectors import campaigns as selectors
from fieldservice.maintenance.services import campaigns as services

router = Router(tags=["maintenance"])

SerialText = Field(default="", max_length=64)


class CampaignPartOut(Schema):
    part: int = Field(validation_alias="part_id")
    part_number: str
    quantity: Decimal

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number


class ProgressOut(Schema):
    label: str
    area: int | None = Field(validation_alias="area_id")
    total: int
    done: int
    refused: int
    unreachable: int
    pending: int
    percent: int


class CampaignOut(Schema):
    id: int
    number: str | None
    title: str
    reason: str
    action: str
    status: str
    service_type: str
    priority: str
    job_template: int | None = Field(validation_alias="job_template_id")
    owner: int = Field(validation_alias="owner_id")
    starts_on: date | None
    ends_on: date | None
    source_kind: str
    source_id: int | None
    launched_at: datetime | None
    closed_at: datetime | None
    cancel_reason: str
    created_at: datetime


class CampaignDetailOut(CampaignOut):
    product_models: list[int]
    serial_from: str
    serial_to: str
    lot_from: str
    lot_to: str
    installed_from: date | None
    installed_to: date | None
    customers: list[int]
    areas: list[int]
    listed: list[int]
    parts: list[CampaignPartOut]
    progress: ProgressOut | None = None
    progress_by_area: list[ProgressOut] = []

    @staticmethod
    def resolve_product_models(obj) -> list[int]:
        return list(obj.product_models.values_list("pk", flat=True))

    @staticmethod
    def resolve_customers(obj) -> list[int]:
        return list(obj.customers.values_list("pk", flat=True))

    @staticmethod
    def resolve_areas(obj) -> list[int]:
        return list(obj.areas.values_list("pk", flat=True))

    @staticmethod
    def resolve_listed(obj) -> list[int]:
        return list(obj.listed.values_list("pk", flat=True))

    @staticmethod
    def resolve_parts(obj) -> list:
        return list(obj.parts.select_related("part"))


class CampaignPartIn(StrictSchema):
    part: Id
    quantity: Decimal | str


class SelectionIn(StrictSchema):
    __model__ = Campaign
    product_models: list[Id] = Field(default=[], max_length=500)
    serial_from: str = ""
    serial_to: str = ""
    lot_from: str = ""
    lot_to: str = ""
    installed_from: date | None = None
    installed_to: date | None = None
    customers: list[Id] = Field(default=[], max_length=5000)
    areas: list[Id] = Field(default=[], max_length=500)
    serials: list[str] = Field(default=[], max_length=services.MAX_LISTED)
    equipment_ids: list[Id] = Field(default=[], max_length=services.MAX_LISTED)


class CampaignIn(SelectionIn):
    __model__ = Campaign
    title: str
    reason: str = Field(default="", max_length=services.REASON_MAX)
    action: str = Field(..., max_length=20)
    service_type: str = ""
    priority: str = ""
    job_template: Id | None = None
    owner: Id | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    parts: list[CampaignPartIn] = Field(default=[], max_length=services.MAX_PARTS)


class CampaignChangeIn(StrictSchema):
    """A draft's fields (all optional; what is left out stays); a launched campaign's title,
    reason, owner and dates."""

    __model__ = Campaign
    title: str | None = None
    reason: str | None = Field(default=None, max_length=services.REASON_MAX)
    action: str | None = Field(default=None, max_length=20)
    service_type: str | None = None
    priority: str | None = None
    job_template: Id | None = None
    owner: Id | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    parts: list[CampaignPartIn] | None = Field(default=None, max_length=services.MAX_PARTS)


class CampaignMachineOut(Schema):
    id: int
    product_model: str
    serial_number: str
    lot_number: str
    customer: int = Field(validation_alias="customer_id")
    site: int | None = Field(validation_alias="site_id")
    installed_on: date | None

    @staticmethod
    def resolve_product_model(obj) -> str:
        return obj.product_model.code


class PreviewOut(Schema):
    count: int
    first: list[CampaignMachineOut]


class TargetOut(Schema):
    id: int
    campaign: int = Field(validation_alias="campaign_id")
    equipment: int = Field(validation_alias="equipment_id")
    serial_number: str
    product_model: str
    customer: int = Field(validation_alias="customer_id")
    site: int | None = Field(validation_alias="site_id")
    area: int | None = Field(validation_alias="area_id")
    work_order: int | None = Field(validation_alias="work_order_id")
    work_order_number: str | None
    status: str
    note: str
    done_at: datetime | None
    decided_at: datetime | None

    @staticmethod
    def resolve_serial_number(obj) -> str:
        return obj.equipment.serial_number

    @staticmethod
    def resolve_product_model(obj) -> str:
        return obj.equipment.product_model.code

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number if obj.work_order_id else None


class MarkIn(StrictSchema):
    __columns__ = {"note": (CampaignTarget, "note")}
    status: str = Field(..., max_length=12)
    note: str = ""


class CloseIn(StrictSchema):
    __columns__ = {"note": (CampaignTarget, "note")}
    note: str = ""


class CancelIn(StrictSchema):
    __columns__ = {"reason": (Campaign, "cancel_reason")}
    reason: str


def _detail(request, campaign_id: int) -> Campaign:
    return selectors.get_campaign_for(request.user, campaign_id)


def _with_progress(request, campaign: Campaign) -> Campaign:
    overall, areas = selectors.progress_of(selectors.campaign_targets_for(request.user, campaign))
    campaign.progress = overall
    campaign.progress_by_area = areas
    return campaign


def _parts(parts) -> list | None:
    if parts is None:
        return None
    return [{"part": row.part, "quantity": row.quantity} for row in parts]


def _criteria(payload: SelectionIn) -> dict:
    data = {name: getattr(payload, name) for name in services.CRITERIA}
    data["serials"] = "\n".join(data["serials"])
    return data


@router.get("/campaigns", response=list[CampaignOut])
@paginate(PageNumberPagination, page_size=50)
def list_campaigns(request, status: str = "", action: str = "", q: str = ""):
    """The campaigns the user may see, newest first (a customer: the launched ones about his machines)."""
    require(may_view_campaigns(request.user))
    campaigns = selectors.filter_campaigns(
        selectors.campaigns_for(request.user), status=status[:20], action=action[:20]
    )
    return selectors.search_campaigns(campaigns, q[:100]).order_by("-created_at", "-pk")


@router.post("/campaigns", response={201: CampaignDetailOut})
@idempotent
def create_campaign(request, payload: CampaignIn):
    fields = {
        name: getattr(payload, name)
        for name in ("title", "reason", "action", "service_type", "priority", "job_template", "owner")
    }
    fields.update(starts_on=payload.starts_on, ends_on=payload.ends_on)
    campaign = services.create_campaign(actor=request.user, parts=_parts(payload.parts), **fields, **_criteria(payload))
    return 201, _with_progress(request, campaign)


@router.post("/campaigns/preview", response=PreviewOut)
def preview_selection(request, payload: SelectionIn):
    """How many registered machines a selection picks, and the first 20, before any campaign is saved."""
    require(may_manage_campaigns(request.user))
    return services.preview(services.check_selection(**_criteria(payload)), actor=request.user)


@router.get("/campaigns/{int:campaign_id}", response=CampaignDetailOut)
def get_campaign(request, campaign_id: Id):
    return _with_progress(request, _detail(request, campaign_id))


@router.patch("/campaigns/{int:campaign_id}", response=CampaignDetailOut)
def change_campaign(request, campaign_id: Id, payload: CampaignChangeIn):
    campaign = _detail(request, campaign_id)
    fields = payload.dict(exclude_unset=True)
    parts = fields.pop("parts", None)
    services.update_campaign(
        campaign, actor=request.user, parts=_parts(payload.parts) if parts is not None else None, **fields
    )
    return _with_progress(request, _detail(request, campaign_id))


@router.post("/campaigns/{int:campaign_id}/preview", response=PreviewOut)
def preview_campaign(request, campaign_id: Id):
    """A draft's machines as its selection picks them now; a launched campaign's frozen machines."""
    return services.preview_campaign(_detail(request, campaign_id), actor=request.user)


@router.post("/campaigns/{int:campaign_id}/launch", response=CampaignDetailOut)
def launch_campaign(request, campaign_id: Id):
    services.launch_campaign(_detail(request, campaign_id), actor=request.user)
    return _with_progress(request, _detail(request, campaign_id))


@router.post("/campaigns/{int:campaign_id}/close", response=CampaignDetailOut)
def close_campaign(request, campaign_id: Id, payload: CloseIn):
    services.close_campaign(_detail(request, campaign_id), actor=request.user, note=payload.note)
    return _with_progress(request, _detail(request, campaign_id))


@router.post("/campaigns/{int:campaign_id}/cancel", response=CampaignDetailOut)
def cancel_campaign(request, campaign_id: Id, payload: CancelIn):
    services.cancel_campaign(_detail(request, campaign_id), actor=request.user, reason=payload.reason)
    return _with_progress(request, _detail(request, campaign_id))


@router.get("/campaigns/{int:campaign_id}/targets", response=list[TargetOut])
@paginate(PageNumberPagination, page_size=50)
def list_targets(request, campaign_id: Id, status: str = "", area: Id | None = None, q: str = ""):
    """The campaign's machines the user may see (a customer: his own; a provider: those dispatched to it)."""
    campaign = _detail(request, campaign_id)
    targets = selectors.campaign_targets_for(request.user, campaign)
    return selectors.filter_targets(targets, text=q[:100], status=status[:12], area=area).order_by("pk")


@router.post("/campaigns/{int:campaign_id}/targets/{int:target_id}/mark", response=TargetOut)
def mark_target(request, campaign_id: Id, target_id: Id, payload: MarkIn):
    """Refused by the customer (note: the reason), unreachable (note: what was tried), or back to pending."""
    campaign = _detail(request, campaign_id)
    target = selectors.get_target_for(request.user, target_id, campaign)
    services.mark_target(target, actor=request.user, status=payload.status, note=payload.note)
    return selectors.get_target_for(request.user, target_id, campaign)
