from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", pgettext_lazy("optimisation run", "Running")
    DONE = "done", _("Proposal ready")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    APPLIED = "applied", _("Applied")
    DISCARDED = "discarded", _("Discarded")


ACTIVE_RUN_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})
