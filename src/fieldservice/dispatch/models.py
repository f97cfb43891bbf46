from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation, ServiceTeam
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus, RuleAction, RuleStrategy, RuleTarget
from fieldservice.workorders.models import WorkOrder


class DispatchRule(models.Model):
    """One line of the auto-dispatch table: conditions on the order, whom to give it to, and how
    to choose among them. Rules are tried by `position`; the first whose conditions all hold wins.

    `conditions` maps a condition field (see dispatch/rules/conditions.py CONDITION_FIELDS) to the values it
    accepts, e.g. {"priority": ["urgent"], "area": [3]}; a field that is absent accepts anything.
    `weights` are the best-match weights per factor (skill, distance, load, last_engineer, rating)."""

    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=RuleAction.choices, default=RuleAction.ASSIGN)
    target_kind = models.CharField(
        _("dispatch to"), max_length=10, choices=RuleTarget.choices, default=RuleTarget.ANYONE
    )
    target_engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target_team = models.ForeignKey(
        ServiceTeam, verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    strategy = models.CharField(
        _("strategy"), max_length=12, choices=RuleStrategy.choices, default=RuleStrategy.BEST_MATCH
    )
    weights = models.JSONField(_("best-match weights"), default=dict, blank=True)
    pool_minutes = models.PositiveIntegerField(_("minutes in the pool"), null=True, blank=True)
    pool_requires_approval = models.BooleanField(_("grabs need approval"), default=False)
    # Round robin: the engineer this rule gave the last order to.
    last_engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    matched_count = models.PositiveIntegerField(_("orders caught"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


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
    rule = models.ForeignKey(
        DispatchRule, verbose_name=_("rule"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
