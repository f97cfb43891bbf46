from django.db import models
from django.utils.translation import gettext_lazy as _


class EquipmentStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    INVALIDATED = "invalidated", _("Invalidated")


class FittedPartSource(models.TextChoices):
    BOM = "bom", _("From the bill of materials")
    REPLACEMENT = "replacement", _("Replacement")
    ADDED = "added", _("Added")


class WarrantyState(models.TextChoices):
    IN_WARRANTY = "in_warranty", _("In warranty")
    EXPIRED = "expired", _("Out of warranty")
    NOT_STARTED = "not_started", _("Warranty not started")
    UNKNOWN = "unknown", _("Warranty unknown")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "bom_changed": _("bill of materials changed"),
    "document_added": _("document added"),
    "qr_token_renewed": _("QR code renewed"),
}


class MeterSource(models.TextChoices):
    """Who read a meter."""

    ENGINEER = "engineer", _("Engineer")
    CUSTOMER = "customer", _("Customer")
    OFFICE = "office", _("Office")
    API = "api", _("API")
    IOT = "iot", _("Connected machine")


# The meter a usage-based maintenance plan counts by default.
OPERATING_HOURS = "operating_hours"
