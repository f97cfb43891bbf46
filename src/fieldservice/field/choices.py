from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldAction(models.TextChoices):
    """The facts the field services write to a work order's service log (moves use the verb)."""

    WORK_RECORDED = "work_recorded", _("work recorded")
    PART_USED = "part_used", _("part used")
    PART_REMOVED = "part_removed", _("part entry removed")
    PHOTO_ADDED = "photo_added", _("photo added")
    SIGNATURE_CAPTURED = "signature_captured", _("customer signed")
    REPORT_SENT = "report_sent", _("service report sent")
    STEPS_CHANGED = "steps_changed", _("job steps changed")
    STEP_ANSWERED = "step_answered", _("job step answered")


# Equipment history (core event log) action for parts changed by a visit.
PARTS_REPLACED = "parts_replaced"


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    **{action.value: action.label for action in FieldAction},
    PARTS_REPLACED: _("parts replaced"),
    # A job template's history (core event log).
    "step_added": _("step added"),
    "step_changed": _("step changed"),
    "step_removed": _("step removed"),
}


class StepKind(models.TextChoices):
    """What one job step asks of the engineer, and so how its answer is stored and checked."""

    INSTRUCTION = "instruction", _("Instruction")
    YES_NO = "yes_no", _("Yes / no")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")
    SCAN = "scan", _("Barcode / serial scan")
    SIGNATURE = "signature", _("Signature")
    METER = "meter", _("Meter reading")


class ReportLayout(models.TextChoices):
    """How the service report PDF is laid out; chosen per service type on the job template."""

    STANDARD = "standard", _("Standard service report")
    CHECKLIST = "checklist", _("Checklist report")
    CERTIFICATE = "certificate", _("Calibration certificate")
