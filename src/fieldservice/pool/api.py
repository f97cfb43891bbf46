"""HTTP API of the grab pool (under /api/v1/): the offers the caller may see, publishing an order,
grabbing, and the dispatcher's approve / decline / withdraw."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.selectors import providers_for
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.pool import selectors, services
from fieldservice.pool.models import PoolOffer
from fieldservice.pool.permissions import may_manage_pool
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["pool"])


class OfferOut(Schema):
    id: int
    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str | None
    work_order_status: str
    priority: str
    customer_name: str
    site_name: str | None
    status: str
    provider: int | None = Field(validation_alias="provider_id")
    skill: int | None = Field(validation_alias="skill_id")
    skill_name: str | None
    min_level: int
    areas: list[int]
    requires_approval: bool
    note: str
    published_by: int | None = Field(validation_alias="published_by_id")
    rule: int | None = Field(validation_alias="rule_id")
    published_at: datetime
    expires_at: datetime
    grabbed_by: int | None = Field(validation_alias="grabbed_by_id")
    grabbed_at: datetime | None
    decided_by: int | None = Field(validation_alias="decided_by_id")
    decided_at: datetime | None
    distance_km: float | None = None
    sla_due_at: datetime | None = None

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number

    @staticmethod
    def resolve_work_order_status(obj) -> str:
        return obj.work_order.status

    @staticmethod
    def resolve_priority(obj) -> str:
        return obj.work_order.priority

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.work_order.customer.name

    @staticmethod
    def resolve_site_name(obj) -> str | None:
        return obj.work_order.site.name if obj.work_order.site_id else None

    @staticmethod
    def resolve_skill_name(obj) -> str | None:
        return str(obj.skill) if obj.skill_id else None

    @staticmethod
    def resolve_areas(obj) -> list[int]:
        return sorted(area.pk for area in obj.areas.all())


class PublishIn(StrictSchema):
    __model__ = PoolOffer
    minutes: Int32 | None = None
    requires_approval: bool = False
    provider: Id | None = None
    note: str = ""


class OfferReasonIn(StrictSchema):
    __columns__ = {"reason": (PoolOffer, "note")}
    reason: str = ""


def _out(user, offer):
    offer = selectors.get_offer_for(user, offer.pk)
    offer.distance_km = selectors.distance_km(selectors.position_of(user), offer.work_order.site)
    offer.sla_due_at = selectors.with_sla_due(selectors.offers_visible_to(user)).get(pk=offer.pk).sla_due_at
    return offer


@router.get("/pool/offers", response=list[OfferOut])
@paginate(PageNumberPagination, page_size=50)
def list_offers(request, status: str = ""):
    """Dispatchers: every offer (filter with ?status=). Engineers: the open offers they may grab,
    nearest first, with the distance from their last check-in or home base."""
    offers = selectors.offers_for(request.user).prefetch_related("areas")
    if status:
        offers = offers.filter(status=status)
    if may_manage_pool(request.user):
        # Every offer ever published: paginated in the database, newest first.
        return selectors.with_sla_due(offers).order_by("-published_at", "-pk")
    rows = selectors.rows_for(request.user, offers)
    for row in rows:
        row.offer.distance_km = row.distance_km
    return [row.offer for row in rows]


@router.get("/pool/offers/{int:offer_id}", response=OfferOut)
def get_offer(request, offer_id: Id):
    return _out(request.user, selectors.get_offer_for(request.user, offer_id))


@router.post("/work-orders/{int:order_id}/pool", response={201: OfferOut})
@idempotent
def publish(request, order_id: Id, payload: PublishIn):
    order = get_work_order_for(request.user, order_id)
    require(may_manage_pool(request.user))
    provider = None
    if payload.provider is not None:
        provider = providers_for(request.user).filter(pk=payload.provider).first()
        if provider is None:
            raise field_error(
                "provider",
                _("No %(field)s with id %(id)s.") % {"field": "provider", "id": payload.provider},
                "does_not_exist",
            )
    offer = services.publish_to_pool(
        order,
        actor=request.user,
        minutes=payload.minutes,
        requires_approval=payload.requires_approval,
        provider=provider,
        note=payload.note,
    )
    return 201, _out(request.user, offer)


@router.post("/pool/offers/{int:offer_id}/grab", response=OfferOut)
def grab(request, offer_id: Id):
    """409 with code "taken" when another engineer was first."""
    offer = selectors.get_offer_for(request.user, offer_id)
    require(selectors.is_grabber(request.user))
    return _out(request.user, services.grab(offer, actor=request.user))


@router.post("/pool/offers/{int:offer_id}/approve", response=OfferOut)
def approve(request, offer_id: Id):
    offer = selectors.get_offer_for(request.user, offer_id)
    return _out(request.user, services.approve_grab(offer, actor=request.user))


@router.post("/pool/offers/{int:offer_id}/decline", response=OfferOut)
def decline(request, offer_id: Id, payload: OfferReasonIn):
    offer = selectors.get_offer_for(request.user, offer_id)
    return _out(request.user, services.decline_grab(offer, actor=request.user, reason=payload.reason))


@router.post("/pool/offers/{int:offer_id}/withdraw", response=OfferOut)
def withdraw(request, offer_id: Id, payload: OfferReasonIn):
    offer = selectors.get_offer_for(request.user, offer_id)
    return _out(request.user, services.withdraw_offer(offer, actor=request.user, reason=payload.reason))
