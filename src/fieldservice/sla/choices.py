from django.db import models
from django.utils.translation import gettext_lazy as _

# The business calendar's words moved with the calendars to contracts (service terms); the sla
# app's code keeps importing them from here.
from fieldservice.contracts.choices import HolidayKind as HolidayKind
from fieldservice.contracts.choices import Weekday as Weekday


class TargetKind(models.TextChoices):
    """What each SLA clock measures, from the order's creation."""

    RESPONSE = "response", _("Response (dispatched)")
    ACCEPTANCE = "acceptance", _("Acceptance")
    ARRIVAL = "arrival", _("Arrival on site")
    RESOLUTION = "resolution", _("Resolution (fixed)")


# The order in which an order passes its milestones: meeting one meets every earlier one still
# running (an order completed without a separate acceptance has been accepted too).
TARGET_ORDER = (TargetKind.RESPONSE, TargetKind.ACCEPTANCE, TargetKind.ARRIVAL, TargetKind.RESOLUTION)


class NotifyRole(models.TextChoices):
    """Who an escalation rule tells."""

    DISPATCHER = "dispatcher", _("Dispatchers")
    # The lead of the assigned engineer's service team; the dispatchers when there is none.
    TEAM_LEAD = "team_lead", _("Team lead of the assigned engineer")
    ASSIGNED_ENGINEER = "assigned_engineer", _("Assigned engineer")
    DIRECTOR = "director", _("Service directors")
    ACCOUNT_OWNER = "account_owner", _("Customer's account owner")


class ClockState(models.TextChoices):
    """How a clock stands, as shown to people (worked out, not stored)."""

    RUNNING = "running", _("Running")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    MET_LATE = "met_late", _("Met late")
    STOPPED = "stopped", _("Stopped")


class OverdueState(models.TextChoices):
    AT_RISK = "at_risk", _("At risk (80 percent used)")
    BREACHED = "breached", _("Breached")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "holidays_loaded": _("holidays loaded"),
}
