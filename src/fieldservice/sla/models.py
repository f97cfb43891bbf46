from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The service terms (calendars, policies, targets) are contracts' models since SLA policies are
# contract terms; their tables keep the sla_ names. Re-exported for the sla app's own code.
from fieldservice.contracts.models import BusinessCalendar as BusinessCalendar
from fieldservice.contracts.models import Holiday as Holiday
from fieldservice.contracts.models import SlaPolicy as SlaPolicy
from fieldservice.contracts.models import SlaTarget as SlaTarget
from fieldservice.contracts.models import WorkingPeriod as WorkingPeriod
from fieldservice.sla.choices import NotifyRole, TargetKind

# A clock is "at risk" once this share of its target is used.
AT_RISK_PERCENT = 80


class SlaClock(models.Model):
    """One measured target of one work order: started at the order's creation, due after the
    target's business minutes on its policy's calendar, met by the milestone's move.

    Waiting for the customer pauses it (the due time moves on by the business time spent
    waiting); a cancelled order stops it. `next_check_at` is when the periodic check must look at
    it next (the next escalation rule or the due time); null when nothing is left to fire."""

    # No index of their own: the unique (work_order, kind) index serves lookups by order, and
    # every index is written again each time the check moves `next_check_at`.
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("work order"),
        on_delete=models.CASCADE,
        related_name="sla_clocks",
        db_index=False,
    )
    kind = models.CharField(_("target"), max_length=12, choices=TargetKind.choices)
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    target_minutes = models.PositiveIntegerField(_("target (business minutes)"))
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    at_risk_at = models.DateTimeField(_("at risk from"))
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    # Business minutes spent paused before the current pause; fractions of a minute count.
    paused_business_minutes = models.FloatField(_("business minutes paused"), default=0)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["work_order", "started_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["work_order", "kind"], name="sla_clock_one_per_target")]
        indexes = [
            # The periodic check's one query: running clocks whose next check is due.
            models.Index(
                fields=["next_check_at"],
                name="sla_clock_next_check",
                condition=Q(
                    met_at__isnull=True,
                    paused_at__isnull=True,
                    stopped_at__isnull=True,
                    next_check_at__isnull=False,
                ),
            ),
            # The overdue list: running clocks past their warning time.
            models.Index(
                fields=["at_risk_at"],
                name="sla_clock_running_risk",
                condition=Q(met_at__isnull=True, paused_at__isnull=True, stopped_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.get_kind_display()}"

    @property
    def is_running(self) -> bool:
        return self.met_at is None and self.stopped_at is None and self.paused_at is None


class EscalationRule(models.Model):
    """Whom to tell when a clock reaches a point: some business minutes after its start, or a
    share of its target used (100 % = breached)."""

    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(
        _("target"), max_length=12, choices=TargetKind.choices, blank=True, help_text=_("Empty: every target.")
    )
    after_minutes = models.PositiveIntegerField(
        _("after (business minutes)"),
        null=True,
        blank=True,
        help_text=_("Fires this many business minutes after the clock started."),
    )
    percent_used = models.PositiveSmallIntegerField(
        _("at percent used"),
        null=True,
        blank=True,
        help_text=_("Fires when this share of the target is used; 100 means breached."),
    )
    priorities = models.JSONField(_("priorities"), default=list, blank=True, help_text=_("Empty: every priority."))
    notify = models.CharField(_("notify"), max_length=20, choices=NotifyRole.choices)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(after_minutes__isnull=False, percent_used__isnull=True, after_minutes__gt=0))
                | (
                    Q(after_minutes__isnull=True, percent_used__isnull=False)
                    & Q(percent_used__gte=1, percent_used__lte=100)
                ),
                name="escalation_rule_one_trigger",
            )
        ]

    def __str__(self) -> str:
        return self.name
