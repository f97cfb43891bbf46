"""Models of plans: maintenance plans (保养计划), their parts lists, and the visits they make due.

A plan covers one machine, every registered machine of a product model, or the machines of a
contract (its maintenance visits per year). It is due by the calendar (every N months from the
installation or from the last visit), by usage (every N hours of a meter), or both, whichever comes
first. The periodic check writes one `DueVisit` per machine and due date (a unique constraint: a
second, or a concurrent, run writes nothing twice) and opens the work order for it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.choices import OPERATING_HOURS
from fieldservice.core.choices import Priority, ServiceType


class PlanScope(models.TextChoices):
    MACHINE = "machine", _("One machine")
    MODEL = "model", _("Every machine of a product model")
    CONTRACT = "contract", _("The machines of a contract")


class CalendarBase(models.TextChoices):
    INSTALLATION = "installation", _("From the installation date")
    LAST_VISIT = "last_visit", _("From the last visit")


class DueReason(models.TextChoices):
    CALENDAR = "calendar", _("Calendar")
    USAGE = "usage", _("Usage")


PLAN_SERVICE_TYPES = (ServiceType.MAINTENANCE, ServiceType.INSPECTION)


class MaintenancePlan(models.Model):
    name = models.CharField(_("name"), max_length=200)
    scope = models.CharField(_("applies to"), max_length=12, choices=PlanScope.choices)
    equipment = models.ForeignKey(
        "assets.Equipment",
        verbose_name=_("machine"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_plans",
    )
    product_model = models.ForeignKey(
        "assets.ProductModel",
        verbose_name=_("product model"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="maintenance_plans",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_plans",
    )
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    calendar_base = models.CharField(
        _("counted"), max_length=12, choices=CalendarBase.choices, default=CalendarBase.INSTALLATION
    )
    interval_hours = models.PositiveIntegerField(_("every (operating hours)"), null=True, blank=True)
    meter = models.CharField(_("meter"), max_length=40, default=OPERATING_HOURS, blank=True)
    job_template = models.ForeignKey(
        "field.JobTemplate",
        verbose_name=_("job template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lead_days = models.PositiveSmallIntegerField(_("lead days"), default=14)
    service_type = models.CharField(
        _("service type"),
        max_length=20,
        choices=[(t.value, t.label) for t in PLAN_SERVICE_TYPES],
        default=ServiceType.MAINTENANCE,
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_months__isnull=False) | Q(interval_hours__isnull=False) | Q(scope="contract"),
                name="plan_has_an_interval",
            ),
            models.CheckConstraint(
                condition=(Q(interval_months__isnull=True) | Q(interval_months__gt=0))
                & (Q(interval_hours__isnull=True) | Q(interval_hours__gt=0)),
                name="plan_interval_not_zero",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="plan_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(scope="machine", equipment__isnull=False)
                | Q(scope="model", product_model__isnull=False)
                | Q(scope="contract", contract__isnull=False),
                name="plan_scope_names_its_target",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "scope"])]

    def __str__(self) -> str:
        return self.name


class PlanPart(models.Model):
    """A part the plan's visit uses: it is listed on the order (needed parts) and counted as
    inventory's maintenance demand."""

    plan = models.ForeignKey(MaintenancePlan, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey("inventory.Part", verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=1)

    class Meta:
        verbose_name = _("plan part")
        verbose_name_plural = _("plan parts")
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "part"], name="plan_part_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="plan_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity.normalize()}"


class DueVisit(models.Model):
    """One machine's maintenance visit due on one date, and the work order opened for it."""

    # No index of their own: the (plan, machine, day) index and the (machine, day) constraint lead
    # with them, and a generation run writes thousands of rows at once.
    plan = models.ForeignKey(
        MaintenancePlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="due", db_index=False
    )
    equipment = models.ForeignKey(
        "assets.Equipment",
        verbose_name=_("machine"),
        on_delete=models.CASCADE,
        related_name="due_visits",
        db_index=False,
    )
    due_on = models.DateField(_("due"))
    reason = models.CharField(_("due by"), max_length=10, choices=DueReason.choices)
    # The meter value the visit is for (usage plans), so the next one counts on from it.
    meter_value = models.DecimalField(_("at reading"), max_digits=14, decimal_places=2, null=True, blank=True)
    job_template = models.ForeignKey(
        "field.JobTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        verbose_name=_("work order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("due visit")
        verbose_name_plural = _("due visits")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["equipment", "due_on"], name="due_visit_one_per_machine_and_day"),
        ]
        indexes = [models.Index(fields=["plan", "equipment", "-due_on"]), models.Index(fields=["due_on"])]

    def __str__(self) -> str:
        return f"{self.equipment_id} @ {self.due_on}"
