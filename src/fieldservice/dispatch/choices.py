from django.db import models
from django.utils.translation import gettext_lazy as _


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead engineer")
    HELPER = "helper", _("Helper")


class AssignmentStatus(models.TextChoices):
    OFFERED = "offered", _("Waiting for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    REVOKED = "revoked", _("Revoked")


ACTIVE_ASSIGNMENT_STATUSES = frozenset({AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED})
