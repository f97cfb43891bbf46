from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fieldservice.customers.choices import CustomerTier
from fieldservice.sla.choices import HolidayKind, Weekday
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
