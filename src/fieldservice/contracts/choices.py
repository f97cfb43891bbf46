from django.db import models
from django.utils.translation import gettext_lazy as _


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (no work)")
    # 调休: a weekend day that is worked to make up for a bridged holiday.
    WORKDAY = "workday", _("Adjusted working day")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ContractLevel(models.TextChoices):
    GOLD = "gold", _("Gold")
    SILVER = "silver", _("Silver")
    BASIC = "basic", _("Basic")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class PartsCoverage(models.TextChoices):
    NONE = "none", _("Parts charged")
    WEAR_EXCLUDED = "wear_excluded", _("Parts covered except wear parts")
    ALL = "all", _("All parts covered")


class Entitlement(models.TextChoices):
    """Why a visit is or is not charged, decided when the order is created."""

    WARRANTY = "warranty", _("In warranty")
    CONTRACT = "contract", _("Under contract")
    CHARGEABLE = "chargeable", _("Chargeable")


class PriceItemKind(models.TextChoices):
    LABOUR_HOUR = "labour_hour", _("Labour per hour")
    CALL_OUT = "call_out", _("Call-out fee")
    PART = "part", _("Part")
    TRAVEL_KM = "travel_km", _("Travel per kilometre")
    TRAVEL_ZONE = "travel_zone", _("Travel, fixed fee for a zone")
    SERVICE = "service", _("Service item")


class ReminderSubject(models.TextChoices):
    """What ends: a service contract or a machine's warranty."""

    CONTRACT = "contract", _("Contract end")
    WARRANTY = "warranty", _("Warranty end")


# Contracts that may still cover a machine (and so may not overlap on one).
LIVE_STATUSES = frozenset({ContractStatus.DRAFT, ContractStatus.ACTIVE})

STATUS_COLOURS = {
    ContractStatus.DRAFT: "warn",
    ContractStatus.ACTIVE: "ok",
    ContractStatus.EXPIRED: "",
    ContractStatus.TERMINATED: "bad",
}

ENTITLEMENT_COLOURS = {
    Entitlement.WARRANTY: "ok",
    Entitlement.CONTRACT: "ok",
    Entitlement.CHARGEABLE: "warn",
}


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "activated": _("activated"),
    "terminated": _("terminated"),
    "extended": _("extended"),
    "expired": _("expired"),
    "equipment_changed": _("covered machines changed"),
    "price_set": _("price set"),
    "price_removed": _("price removed"),
}
