from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.notifications.choices import Channel, DeliveryStatus, ImKind

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 4000


class Notification(models.Model):
    """One message for one person, rendered in their language when the outbox message was
    consumed. The bell and the list show it once its in-app delivery ran (`delivered_at`).

    A message to a customer's contact, who is no user (customer care's SMS and e-mails), has no
    recipient: it names the contact and the phone or address it goes to, and has no in-app delivery."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    to_name = models.CharField(_("to"), max_length=100, blank=True)
    to_phone = models.CharField(_("phone"), max_length=32, blank=True)
    to_email = models.EmailField(_("e-mail"), blank=True)
    event = models.CharField(_("event"), max_length=60)
    title = models.CharField(_("title"), max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # "<outbox message key or m<message pk>>:<user id>": consuming a message twice finds it.
    key = models.CharField(max_length=240, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True, delivered_at__isnull=False),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient__isnull=False) | ~models.Q(to_phone="") | ~models.Q(to_email=""),
                name="notification_has_addressee",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def addressee(self) -> str:
        """Who it is for: the user, or the contact with the phone or address it goes to."""
        if self.recipient_id:
            return str(self.recipient)
        return " ".join(part for part in (self.to_name, self.to_phone or self.to_email) if part)


class Delivery(models.Model):
    """One notification on one channel. The in-app channel is a delivery too, so every channel
    runs through the same claimed, retried attempt by its channel's pump (core.destinations)."""

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While "sending": the pump that claimed it owns it until then; after, it is sent again.
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # IM: the endpoints that already have it, so a retry after a partial failure sends only to the rest.
    sent_to = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["status", "channel"], name="delivery_status_channel"),
            models.Index(
                fields=["channel", "next_attempt_at"], name="delivery_pump", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}"

    @property
    def key(self) -> str:
        """Stable across retries; receivers drop a second copy with the same key."""
        return delivery_key(self.notification_id, self.channel)


def delivery_key(notification_id: int, channel: str) -> str:
    return f"notification-{notification_id}-{channel}"


class NotificationTemplate(models.Model):
    """What an event says, per language, in Django template syntax. Administrators edit them;
    without a row the text in `defaults.py` is used."""

    event = models.CharField(_("event"), max_length=60)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(_("text"), max_length=BODY_MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["event", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "language"], name="notification_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.language})"


class NotificationPreference(models.Model):
    """A user's choice for one channel, for one event or (event "") for all of them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    event = models.CharField(_("event"), max_length=60, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        ordering = ["user", "event", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["user", "channel", "event"], name="notification_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event or '*'} {self.channel}: {self.enabled}"


class ImEndpoint(models.Model):
    """A group robot (WeCom, DingTalk, Feishu) or a generic receiver of signed JSON. Every
    active one gets the IM notifications."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ImKind.choices, default=ImKind.GENERIC)
    url = models.CharField(_("address"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("IM endpoint")
        verbose_name_plural = _("IM endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class SmsGateway(models.Model):
    """A generic HTTP SMS gateway: it gets signed JSON {"phone", "text"}. The first active one
    sends the SMS notifications."""

    name = models.CharField(_("name"), max_length=100)
    url = models.CharField(_("address"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("SMS gateway")
        verbose_name_plural = _("SMS gateways")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
