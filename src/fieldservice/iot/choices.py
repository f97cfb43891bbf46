from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    MACHINE = "machine", _("Machine (reports for itself)")
    GATEWAY = "gateway", _("Gateway (reports for several machines)")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Door(models.TextChoices):
    """How a message came in."""

    MQTT = "mqtt", _("MQTT")
    HTTP = "http", _("HTTP")


class RejectReason(models.TextChoices):
    """Why a message, or an item of a batch, was refused; each is counted (never half-stored)."""

    UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
    BAD_CREDENTIALS = "bad_credentials", _("Wrong credentials")
    REVOKED = "revoked", _("Credentials revoked")
    MALFORMED = "malformed", _("Malformed payload")
    NOT_ITS_MACHINE = "not_its_machine", _("Machine not served by this device")
    IN_FUTURE = "in_future", _("Time too far in the future")
    TOO_OLD = "too_old", _("Older than the retention period")


class RuleKind(models.TextChoices):
    ABOVE = "above", _("Above a value for a time")
    BELOW = "below", _("Below a value for a time")
    RATE = "rate", _("Rises faster than a rate")
    PLAN_USAGE = "plan_usage", _("Meter reaches a maintenance plan's interval")


# Labels of the actions this app writes to the service log (registered with core.events in apps.py).
ACTION_LABELS = {
    "iot_fired_again": _("machine alarm or rule fired again"),
    "iot_alarm_cleared": _("machine alarm cleared"),
}
