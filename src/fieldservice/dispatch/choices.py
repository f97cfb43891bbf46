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


class RuleAction(models.TextChoices):
    ASSIGN = "assign", _("Assign")
    POOL = "pool", _("Publish to the grab pool")


class RuleTarget(models.TextChoices):
    ENGINEER = "engineer", _("An engineer")
    TEAM = "team", _("A team")
    PROVIDER = "provider", _("A service provider")
    ANYONE = "anyone", _("Any qualified engineer")


class RuleStrategy(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_OPEN = "least_open", _("Least open work")
    NEAREST = "nearest", _("Nearest qualified available engineer")
    BEST_MATCH = "best_match", _("Best match")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "provider_assigned": _("engineer of the provider assigned"),
    "helper_added": _("helper added"),
    "helper_accepted": _("helper accepted"),
    "helper_rejected": _("helper rejected"),
    "helper_revoked": _("helper revoked"),
    "auto_dispatch": _("automatic dispatch"),
    "moved": _("moved"),
}
