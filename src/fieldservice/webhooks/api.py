"""HTTP API for webhook subscriptions and their delivery log (under /api/v1/), administrators only.

The signing secret is in the answer to a create and to a rotate, and nowhere else."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.webhooks import selectors, services
from fieldservice.webhooks.models import WebhookSubscription
from fieldservice.webhooks.permissions import may_manage_webhooks

router = Router(tags=["webhooks"])


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    created_by: int | None = Field(validation_alias="created_by_id")
    created_at: datetime
    secret_rotated_at: datetime


class SubscriptionWithSecretOut(SubscriptionOut):
    secret: str


class SubscriptionIn(StrictSchema):
    __model__ = WebhookSubscription
    name: str
    url: str
    events: list[str]
    active: bool = True


class SubscriptionPatch(StrictSchema):
    __model__ = WebhookSubscription
    name: str = None
    url: str = None
    events: list[str] = None
    active: bool = None


class DeliveryOut(Schema):
    id: int
    delivery_id: str = Field(description='The X-FSM-Delivery header value ("wh-<id>")')
    subscription: int = Field(validation_alias="subscription_id")
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    response_excerpt: str
    last_error: str
    sent_at: datetime | None
    created_at: datetime
    payload: dict

    @staticmethod
    def resolve_delivery_id(obj) -> str:
        return obj.key


def _manage(request) -> None:
    require(may_manage_webhooks(request.user))


@router.get("/webhooks", response=list[SubscriptionOut], summary="Webhook subscriptions")
@paginate(PageNumberPagination, page_size=50)
def list_subscriptions(request, q: str = "", active: bool | None = None):
    _manage(request)
    return selectors.search_subscriptions(selectors.subscriptions_for(request.user), q, active)


@router.post(
    "/webhooks",
    response={201: SubscriptionWithSecretOut},
    summary="Add a webhook; the answer holds the signing secret, which is not shown again",
)
@idempotent
def create_subscription(request, payload: SubscriptionIn):
    _manage(request)
    return 201, services.create_subscription(actor=request.user, **payload.model_dump())


@router.get("/webhooks/{int:subscription_id}", response=SubscriptionOut)
def get_subscription(request, subscription_id: Id):
    _manage(request)
    return selectors.get_subscription_for(request.user, subscription_id)


@router.patch("/webhooks/{int:subscription_id}", response=SubscriptionOut)
def update_subscription(request, subscription_id: Id, payload: SubscriptionPatch):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    return services.update_subscription(subscription, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.delete("/webhooks/{int:subscription_id}", response={204: None})
def delete_subscription(request, subscription_id: Id):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    services.delete_subscription(subscription, actor=request.user)
    return 204, None


@router.post(
    "/webhooks/{int:subscription_id}/rotate-secret",
    response=SubscriptionWithSecretOut,
    summary="Make a new signing secret (the old one stops working); the answer holds it, once",
)
def rotate_secret(request, subscription_id: Id):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    return services.rotate_secret(subscription, actor=request.user)


@router.post(
    "/webhooks/{int:subscription_id}/test",
    response=DeliveryOut,
    summary="Send a signed ping now; the answer shows the receiver's status or the error",
)
def send_test(request, subscription_id: Id):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    return services.send_test(subscription, actor=request.user)


@router.get("/webhooks/{int:subscription_id}/deliveries", response=list[DeliveryOut], summary="The delivery log")
@paginate(PageNumberPagination, page_size=50)
def list_deliveries(request, subscription_id: Id, status: str = "", event: str = ""):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    return selectors.filter_deliveries(
        selectors.deliveries_for(request.user, subscription), status=status or None, event=event or None
    )


@router.post(
    "/webhooks/{int:subscription_id}/deliveries/{int:delivery_id}/redeliver",
    response=DeliveryOut,
    summary="Send a sent or failed delivery again (same body, same delivery id); 409 while it is being sent",
)
def redeliver(request, subscription_id: Id, delivery_id: Id):
    _manage(request)
    subscription = selectors.get_subscription_for(request.user, subscription_id)
    delivery = selectors.get_delivery_for(request.user, subscription, delivery_id)
    return services.redeliver(delivery, actor=request.user)
