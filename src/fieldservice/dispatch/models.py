from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.workorders.models import WorkOrder


class Assignment(models.Model):
    """A work order given to an engineer, or to a service provider whose admin picks one of
    its engineers. One active lead per order; any number of helpers."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="assignments"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    status = models.CharField(
        _("status"), max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.OFFERED
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["work_order", "role", "assigned_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(engineer__isnull=False) | models.Q(provider__isnull=False),
                name="assignment_has_engineer_or_provider",
            ),
            models.UniqueConstraint(
                fields=["work_order"],
                condition=models.Q(role="lead", status__in=["offered", "accepted"]),
                name="assignment_one_active_lead",
            ),
            models.UniqueConstraint(
                fields=["work_order", "engineer"],
                condition=models.Q(status__in=["offered", "accepted"]),
                name="assignment_engineer_once_per_order",
            ),
        ]
        indexes = [models.Index(fields=["engineer", "status"]), models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return f"{self.work_order} → {self.engineer or self.provider}"
