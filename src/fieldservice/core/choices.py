"""The words several apps share about a request or a work order: its priority, its type of
service and the status of an order.

They sit at the bottom so every app may use them: a contract counts the visits its orders used
(every order not cancelled), an SLA policy sets targets per priority, a rule matches a service
type. The rules stay with their owner: `workorders.choices` holds the transition table and
re-exports these names, so the apps above it keep importing them from there."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    INSTALLATION = "installation", _("Installation and commissioning")
    MAINTENANCE = "maintenance", _("Maintenance")
    INSPECTION = "inspection", _("Inspection")
    CONSULTATION = "consultation", _("Consultation")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class WorkOrderStatus(models.TextChoices):
    NEW = "new", _("New")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    TRAVELLING = "travelling", _("Travelling")
    ON_SITE = "on_site", _("On site")
    COMPLETED = "completed", _("Completed")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
