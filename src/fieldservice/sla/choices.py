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


class TargetKind(models.TextChoices):
    """What each SLA clock measures, from the order's creation."""

    RESPONSE = "response", _("Response (dispatched)")
    ACCEPTANCE = "acceptance", _("Acceptance")
    ARRIVAL = "arrival", _("Arrival on site")
    RESOLUTION = "resolution", _("Resolution")
