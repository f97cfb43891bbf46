from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    """The events an integrator may subscribe to (documented in docs/WEBHOOKS.md)."""

    WORK_ORDER_CREATED = "work_order.created", _("Work order created")
    WORK_ORDER_STATUS_CHANGED = "work_order.status_changed", _("Work order status changed")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    EVALUATION_RECEIVED = "evaluation.received", _("Evaluation received")


# Sent only by the "Send test" button; nobody subscribes to it.
PING = "ping"
DELIVERY_EVENTS = [*WebhookEvent.choices, (PING, _("Test (ping)"))]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "redelivered": _("redelivered"),
    "sending_resumed": _("sending resumed"),
}
