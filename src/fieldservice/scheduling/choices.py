from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class AbsenceKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    SICK = "sick", _("Sick leave")
    TRAINING = "training", _("Training")
    BREAK = "break", _("Break")
    OTHER = "other", _("Other")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "visit_scheduled": _("visit scheduled"),
    "visit_rescheduled": _("visit rescheduled"),
    "visit_unscheduled": _("visit taken off the calendar"),
}
