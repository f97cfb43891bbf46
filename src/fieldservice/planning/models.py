from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import ServiceArea, ServiceTeam
from fieldservice.planning.choices import RunStatus


class PlanningRun(models.Model):
    """One optimisation of a team's or an area's day, run by the worker.

    The worker writes `progress` as the search goes and stops early when `cancel_requested` is set.
    `proposal` holds the new routes, what moves, the travel saved and the orders left out with their
    reasons; `snapshot` holds the version of every order and visit it was computed from, so applying
    it after someone changed one of them is refused rather than overwriting that change."""

    team = models.ForeignKey(
        ServiceTeam, verbose_name=_("team"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    area = models.ForeignKey(
        ServiceArea, verbose_name=_("service area"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    day = models.DateField(_("day"))
    time_budget_seconds = models.PositiveSmallIntegerField(_("time budget (seconds)"), default=10)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    snapshot = models.JSONField(default=dict, blank=True)
    proposal = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        verbose_name = _("optimisation run")
        verbose_name_plural = _("optimisation runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False) | models.Q(area__isnull=False), name="planning_run_has_scope"
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="planning_run_progress_le_100"),
        ]

    def __str__(self) -> str:
        return f"{self.team or self.area} {self.day}"
