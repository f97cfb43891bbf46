"""What an administrator sees of the webhooks; everyone else sees nothing."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription
from fieldservice.webhooks.permissions import may_manage_webhooks


def subscriptions_for(actor: User) -> QuerySet[WebhookSubscription]:
    subscriptions = WebhookSubscription.objects.select_related("created_by")
    return subscriptions if may_manage_webhooks(actor) else subscriptions.none()


def get_subscription_for(actor: User, pk: int) -> WebhookSubscription:
    return get_object_or_404(subscriptions_for(actor), pk=pk)


def search_subscriptions(subscriptions: QuerySet[WebhookSubscription], query: str = "", active: bool | None = None):
    query = (query or "").strip()
    if query:
        subscriptions = subscriptions.filter(Q(name__icontains=query) | Q(url__icontains=query))
    if active is not None:
        subscriptions = subscriptions.filter(active=active)
    return subscriptions


def deliveries_for(actor: User, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    return deliveries if may_manage_webhooks(actor) else deliveries.none()


def get_delivery_for(actor: User, subscription: WebhookSubscription, pk: int) -> WebhookDelivery:
    return get_object_or_404(deliveries_for(actor, subscription).select_related("subscription"), pk=pk)


def filter_deliveries(
    deliveries: QuerySet[WebhookDelivery], *, status: str | None = None, event: str | None = None
) -> QuerySet[WebhookDelivery]:
    if status:
        deliveries = deliveries.filter(status=status)
    if event:
        deliveries = deliveries.filter(event=event)
    return deliveries
