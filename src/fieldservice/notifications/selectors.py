"""Who sees which notifications, deliveries and channel settings."""

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import User
from fieldservice.notifications.models import Delivery, ImEndpoint, Notification, SmsGateway
from fieldservice.notifications.permissions import may_manage_notifications


def notifications_for(actor: User) -> QuerySet[Notification]:
    """The actor's own notifications that reached the app, unread first, newest first. Nobody
    sees anyone else's, administrators included."""
    if not actor.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=actor, delivered_at__isnull=False)
        .annotate(unread=Case(When(read_at__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("-unread", "-created_at", "-pk")
    )


def unread_count(actor: User) -> int:
    if not actor.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=actor, delivered_at__isnull=False, read_at__isnull=True).count()


def get_notification_for(actor: User, pk: int) -> Notification:
    return get_object_or_404(notifications_for(actor), pk=pk)


def deliveries_for(actor: User, *, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    """The delivery log: administrators only."""
    if not may_manage_notifications(actor):
        return Delivery.objects.none()
    deliveries = Delivery.objects.select_related("notification__recipient").order_by("-pk")
    if status:
        deliveries = deliveries.filter(status=status)
    if channel:
        deliveries = deliveries.filter(channel=channel)
    return deliveries


def get_delivery_for(actor: User, pk: int) -> Delivery:
    return get_object_or_404(deliveries_for(actor), pk=pk)


def im_endpoints_for(actor: User) -> QuerySet[ImEndpoint]:
    return ImEndpoint.objects.all() if may_manage_notifications(actor) else ImEndpoint.objects.none()


def get_im_endpoint_for(actor: User, pk: int) -> ImEndpoint:
    return get_object_or_404(im_endpoints_for(actor), pk=pk)


def sms_gateways_for(actor: User) -> QuerySet[SmsGateway]:
    return SmsGateway.objects.all() if may_manage_notifications(actor) else SmsGateway.objects.none()


def get_sms_gateway_for(actor: User, pk: int) -> SmsGateway:
    return get_object_or_404(sms_gateways_for(actor), pk=pk)
