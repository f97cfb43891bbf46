from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fieldservice.customers.choices import CustomerTier
from fieldservice.sla.choices import HolidayKind, NotifyRole, TargetKind, Weekday
from fieldservice.workorders.choices import Priority


class BusinessCalendar(models.Model):
    """When the service clock runs: weekly working hours, public holidays and adjusted working
    days. A calendar without working periods runs around the clock (24×7)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    is_default = models.BooleanField(_("default calendar"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default")
        ]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="working_period_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class Holiday(models.Model):
    """A public holiday (the clock stops all day) or an adjusted working day (a weekend day
    worked with the hours of a normal Monday)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=HolidayKind.choices, default=HolidayKind.HOLIDAY)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets per priority, counted on a business calendar. An order gets the policy of its
    contract; without one, the policy for its customer's tier; else the default."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.PROTECT, related_name="policies"
    )
    customer_tier = models.CharField(
        _("for customer tier"),
        max_length=20,
        choices=CustomerTier.choices,
        blank=True,
        help_text=_("Orders of customers of this tier without a contract get this policy."),
    )
    is_default = models.BooleanField(_("default policy"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="sla_policy_one_default"),
            models.UniqueConstraint(
                fields=["customer_tier"], condition=~Q(customer_tier=""), name="sla_policy_one_per_tier"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """Business minutes from the order's creation to each milestone, for one priority. An empty
    target is not measured."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("response (minutes)"), null=True, blank=True)
    acceptance_minutes = models.PositiveIntegerField(_("acceptance (minutes)"), null=True, blank=True)
    arrival_minutes = models.PositiveIntegerField(_("arrival (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "priority"]
        constraints = [models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_unique_priority")]

    def __str__(self) -> str:
        return f"{self.policy} / {self.get_priority_display()}"


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
