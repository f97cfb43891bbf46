from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.webhooks.choices import DELIVERY_EVENTS, DeliveryStatus

NAME_MAX_LENGTH = 100
URL_MAX_LENGTH = 500
EXCERPT_MAX_LENGTH = 500


class WebhookSubscription(models.Model):
    """An integrator's address that receives signed POSTs for the events it chose.

    The secret signs every POST. It is shown once, right after it is made (on creation or
    rotation), and is never displayed again: pages, the API and the admin leave it out."""

    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    url = models.CharField(_("URL"), max_length=URL_MAX_LENGTH)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    secret_rotated_at = models.DateTimeField(_("secret made"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription: the exact body, and how sending it went.

    `key` ("wh-<pk>") goes out as X-FSM-Delivery and stays the same on every retry and
    redelivery, so a receiver can drop repeats. The subscription's pump (core.destinations) claims
    a due delivery by moving it from pending to sending with a lease; when a worker dies mid-POST
    the lease ends and it is sent again with the same id."""

    subscription = models.ForeignKey(
        WebhookSubscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(_("event"), max_length=40, choices=DELIVERY_EVENTS)
    # The outbox message it came from (none for a test ping); one delivery per message and subscription.
    message_id = models.PositiveBigIntegerField(_("outbox message"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "message_id"], name="webhook_delivery_once_per_message"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(
                fields=["subscription", "next_attempt_at"],
                name="webhook_delivery_pump",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.event}"

    @property
    def key(self) -> str:
        return f"wh-{self.pk}"
