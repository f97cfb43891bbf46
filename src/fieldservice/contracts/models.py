from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import EngineerLevel
from fieldservice.contracts.choices import (
    ContractLevel,
    ContractStatus,
    HolidayKind,
    PartsCoverage,
    PriceItemKind,
    ReminderSubject,
    Weekday,
)
from fieldservice.core.choices import Priority, ServiceType
from fieldservice.customers.choices import CustomerTier

# Service terms: the business calendars and SLA policies a contract promises. The sla app's clocks
# count on them. They were the sla app's models, so their tables keep the sla_ names (moving the
# rows would gain nothing).


class BusinessCalendar(models.Model):
    """When the service clock runs: weekly working hours, public holidays and adjusted working
    days. A calendar without working periods runs around the clock (24×7)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    is_default = models.BooleanField(_("default calendar"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "sla_businesscalendar"
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
        db_table = "sla_workingperiod"
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
        db_table = "sla_holiday"
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
        db_table = "sla_slapolicy"
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
        db_table = "sla_slatarget"
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "priority"]
        constraints = [models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_unique_priority")]

    def __str__(self) -> str:
        return f"{self.policy} / {self.get_priority_display()}"


class Contract(models.Model):
    """A service agreement with a customer over some of its machines, for a period.

    An extension is a new contract for the next period whose `previous` is the old one, so the
    history of a customer's agreements stays readable.
    """

    number = models.CharField(_("contract number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    level = models.CharField(_("level"), max_length=10, choices=ContractLevel.choices, default=ContractLevel.SILVER)
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.PROTECT, related_name="contracts"
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT, editable=False
    )
    equipment = models.ManyToManyField(
        "assets.Equipment", verbose_name=_("covered machines"), related_name="contracts", blank=True
    )
    included_visits = models.PositiveIntegerField(
        _("included visits"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    # The planned maintenance visits a year the contract includes: a contract maintenance plan
    # (maintenance app) spreads them over the year. Empty: none planned.
    maintenance_visits_per_year = models.PositiveSmallIntegerField(
        _("maintenance visits a year"), null=True, blank=True, help_text=_("Empty: no planned maintenance.")
    )
    parts_coverage = models.CharField(
        _("parts coverage"), max_length=20, choices=PartsCoverage.choices, default=PartsCoverage.NONE
    )
    labour_covered = models.BooleanField(_("labour covered"), default=True)
    price_list = models.ForeignKey(
        "contracts.PriceList",
        verbose_name=_("price list"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    annual_fee = models.DecimalField(_("contract fee"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    previous = models.OneToOneField(
        "self",
        verbose_name=_("extends"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="extension",
    )
    notes = models.TextField(_("notes"), blank=True)
    terminated_reason = models.CharField(_("reason for termination"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="contract_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.number


class PriceList(models.Model):
    """Prices for chargeable work and parts; a contract may point to its own."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    is_default = models.BooleanField(_("default price list"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="price_list_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    """One price: labour per hour (by service type and engineer level, either may be "any"), the
    call-out fee, travel per kilometre or a fixed fee for a zone, a named service item, or a part."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=20, choices=PriceItemKind.choices)
    part = models.ForeignKey(
        "inventory.Part", verbose_name=_("part"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service_type = models.CharField(
        _("service type"), max_length=20, choices=ServiceType.choices, blank=True, help_text=_("Empty: any.")
    )
    engineer_level = models.CharField(
        _("engineer level"), max_length=10, choices=EngineerLevel.choices, blank=True, help_text=_("Empty: any.")
    )
    area = models.ForeignKey(
        "accounts.ServiceArea",
        verbose_name=_("zone"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("service item"), max_length=100, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["price_list", "kind", "service_type", "engineer_level", "name", "part__part_number", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="price_item_not_negative"),
            # A part price names its part; the other prices name none.
            models.CheckConstraint(
                condition=models.Q(kind=PriceItemKind.PART, part__isnull=False)
                | (~models.Q(kind=PriceItemKind.PART) & models.Q(part__isnull=True)),
                name="price_item_part_iff_kind_part",
            ),
            # A zone fee names its zone; the other prices name none.
            models.CheckConstraint(
                condition=models.Q(kind=PriceItemKind.TRAVEL_ZONE, area__isnull=False)
                | (~models.Q(kind=PriceItemKind.TRAVEL_ZONE) & models.Q(area__isnull=True)),
                name="price_item_area_iff_kind_zone",
            ),
            # A service item has a name; the other prices have none.
            models.CheckConstraint(
                condition=(models.Q(kind=PriceItemKind.SERVICE) & ~models.Q(name=""))
                | (~models.Q(kind=PriceItemKind.SERVICE) & models.Q(name="")),
                name="price_item_name_iff_kind_service",
            ),
            models.UniqueConstraint(
                fields=["price_list", "part"], condition=models.Q(part__isnull=False), name="price_item_one_per_part"
            ),
            models.UniqueConstraint(
                fields=["price_list", "area"], condition=models.Q(area__isnull=False), name="price_item_one_per_zone"
            ),
            models.UniqueConstraint(
                fields=["price_list", "kind", "service_type", "engineer_level", "name"],
                condition=~models.Q(kind__in=[PriceItemKind.PART, PriceItemKind.TRAVEL_ZONE]),
                name="price_item_one_per_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.part_id:
            label = str(self.part)
        elif self.name:
            label = self.name
        elif self.area_id:
            label = f"{self.get_kind_display()} {self.area}"
        else:
            label = self.get_kind_display()
        return f"{label}: {self.unit_price}"


class ReminderSetting(models.Model):
    """How many days before a contract or warranty ends its reminder goes out. Administrators
    edit these in the admin; the defaults are 60, 30 and 7 days for contracts and 30 for
    warranties."""

    subject = models.CharField(_("reminder for"), max_length=10, choices=ReminderSubject.choices)
    days_before = models.PositiveSmallIntegerField(
        _("days before the end"), validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("expiry reminder setting")
        verbose_name_plural = _("expiry reminder settings")
        ordering = ["subject", "-days_before"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "days_before"], name="reminder_setting_unique_days"),
            models.CheckConstraint(
                condition=models.Q(days_before__gte=1, days_before__lte=365), name="reminder_setting_days_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()}: {self.days_before}"


class ExpiryReminder(models.Model):
    """A reminder that went out, so it never goes out twice for the same end date and threshold
    (even if old outbox messages are cleaned up)."""

    subject = models.CharField(_("reminder for"), max_length=10, choices=ReminderSubject.choices)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders")
    equipment = models.ForeignKey("assets.Equipment", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    ends_on = models.DateField(_("end"))
    days_before = models.PositiveSmallIntegerField(_("days before the end"))
    days_left = models.IntegerField(_("days left"))
    recipients = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "ends_on", "days_before"],
                condition=models.Q(subject=ReminderSubject.CONTRACT),
                name="expiry_reminder_once_per_contract",
            ),
            models.UniqueConstraint(
                fields=["equipment", "ends_on", "days_before"],
                condition=models.Q(subject=ReminderSubject.WARRANTY),
                name="expiry_reminder_once_per_warranty",
            ),
            models.CheckConstraint(
                condition=models.Q(subject=ReminderSubject.CONTRACT, contract__isnull=False)
                | models.Q(subject=ReminderSubject.WARRANTY, equipment__isnull=False),
                name="expiry_reminder_names_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.ends_on} −{self.days_before}"
