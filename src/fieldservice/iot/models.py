"""Connected machines: the devices that report for them, what they report (readings and alarms),
and the rules that turn it into work orders. See docs/IOT.md for the wire format."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import Equipment, ProductModel
from fieldservice.customers.models import Customer
from fieldservice.iot.choices import DeviceKind, Door, RejectReason, RuleKind, Severity
from fieldservice.workorders.choices import Priority
from fieldservice.workorders.models import FaultCategory, WorkOrder

METRIC_LENGTH = 40


class Device(models.Model):
    """Something that publishes for one machine (its own controller) or several (a gateway on a
    customer's site). It proves who it is with a token the administrator issued; only a hash of
    the token is kept, the token itself is shown once."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices, default=DeviceKind.MACHINE)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="devices")
    machines = models.ManyToManyField(Equipment, verbose_name=_("machines"), related_name="devices", blank=True)
    prefix = models.CharField(_("token prefix"), max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    expected_interval_seconds = models.PositiveIntegerField(
        _("reports at least every (seconds)"),
        default=300,
        validators=[MinValueValidator(10), MaxValueValidator(7 * 24 * 3600)],
        help_text=_("A machine silent for longer than this is listed as offline."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate_token() -> str:
        # "dev_" + 12 characters looked up by index + the secret: 256 bits in all.
        return "dev_" + secrets.token_urlsafe(32)


class Reading(models.Model):
    """One value of one metric of one machine at one moment. On PostgreSQL the table is
    partitioned by month of `at` (migration 0001, `iot.partitions`), so old months are dropped
    whole; the key (machine, metric, moment) makes a redelivered message store once."""

    pk = models.CompositePrimaryKey("equipment", "metric", "at")
    # The key leads with the machine: no index of its own.
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.CharField(_("metric"), max_length=METRIC_LENGTH)
    at = models.DateTimeField(_("time"))
    value = models.FloatField(_("value"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")

    def __str__(self) -> str:
        return f"{self.metric} {self.value:g} {self.unit}".strip()


class LatestValue(models.Model):
    """The last value of each metric of each machine, kept apart so pages need not search the
    readings."""

    # The unique (equipment, metric) serves the machine's lookups: no index of its own. Every
    # message updates these rows; an index on a column it changes would make each update a new
    # row version with index entries (see migration 0002: the pages are left half empty).
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="latest_values", db_index=False)
    metric = models.CharField(_("metric"), max_length=METRIC_LENGTH)
    value = models.FloatField(_("value"))
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("latest value")
        verbose_name_plural = _("latest values")
        ordering = ["equipment", "metric"]
        constraints = [models.UniqueConstraint(fields=["equipment", "metric"], name="iot_latest_one_per_metric")]

    def __str__(self) -> str:
        return f"{self.metric} {self.value:g} {self.unit}".strip()


class Presence(models.Model):
    """When a machine was last heard from (a reading, an alarm or a heartbeat), and how often it
    should be: silent for longer, it is offline."""

    equipment = models.OneToOneField(Equipment, on_delete=models.CASCADE, primary_key=True, related_name="presence")
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Not indexed: every message updates it (migration 0002), and the offline list compares it
    # with each machine's own interval, which an index on it alone does not serve.
    last_seen_at = models.DateTimeField(_("last seen"))
    expected_interval_seconds = models.PositiveIntegerField(_("expected every (seconds)"), default=300)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presences")

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.last_seen_at:%Y-%m-%d %H:%M}"


class Alarm(models.Model):
    """An alarm a machine raised, until it clears it. The same alarm raised again while open is the
    same row; (machine, code, raised at) makes a redelivered message store once."""

    equipment = models.ForeignKey(Equipment, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="alarms")
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    code = models.CharField(_("alarm code"), max_length=METRIC_LENGTH)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    message = models.CharField(_("message"), max_length=300, blank=True)
    raised_at = models.DateTimeField(_("raised"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    repeats = models.PositiveIntegerField(_("raised again"), default=0)
    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["equipment", "code", "raised_at"], name="iot_alarm_once"),
            models.UniqueConstraint(
                fields=["equipment", "code"], condition=Q(cleared_at__isnull=True), name="iot_alarm_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_severity_display()})"


class AlarmMapping(models.Model):
    """What an alarm code means to the service department: its fault category and priority, and
    whether it opens an order and tells the customer."""

    code = models.CharField(_("alarm code"), max_length=METRIC_LENGTH, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    fault_category = models.ForeignKey(
        FaultCategory, verbose_name=_("fault category"), on_delete=models.PROTECT, null=True, blank=True
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.HIGH)
    opens_order = models.BooleanField(_("opens a work order"), default=True)
    notify_customer = models.BooleanField(_("tell the customer"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm code")
        verbose_name_plural = _("alarm codes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ThresholdRule(models.Model):
    """A metric above or below a value for a time, rising faster than a rate, or a meter reaching
    a maintenance plan's usage interval: when it fires for a machine, it opens an order."""

    name = models.CharField(_("name"), max_length=100)
    metric = models.CharField(_("metric"), max_length=METRIC_LENGTH)
    kind = models.CharField(_("kind"), max_length=12, choices=RuleKind.choices)
    value = models.FloatField(_("value"), null=True, blank=True)
    window_minutes = models.PositiveIntegerField(
        _("for (minutes)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)]
    )
    product_model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every model."),
    )
    fault_category = models.ForeignKey(
        FaultCategory, verbose_name=_("fault category"), on_delete=models.PROTECT, null=True, blank=True
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    notify_customer = models.BooleanField(_("tell the customer"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("threshold rule")
        verbose_name_plural = _("threshold rules")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class RuleState(models.Model):
    """Since when a rule's condition has held for a machine (cleared when it stops holding)."""

    rule = models.ForeignKey(ThresholdRule, on_delete=models.CASCADE, related_name="states")
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "equipment"], name="iot_rule_state_once")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.equipment_id} since {self.since:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    """One cause (an alarm code, a rule) on one machine and the order opened for it. While it is
    open, the same cause firing again is added to it, not opened again."""

    equipment = models.ForeignKey(
        Equipment, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="iot_incidents"
    )
    cause = models.CharField(_("cause"), max_length=80)  # "alarm:<code>" or "rule:<id>"
    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    fired = models.PositiveIntegerField(_("times fired"), default=1)
    evidence = models.JSONField(_("readings that fired it"), default=list, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["equipment", "cause"], condition=Q(closed_at__isnull=True), name="iot_incident_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.cause}"


class Rejection(models.Model):
    """How many messages (or items of a batch) were refused, per day, door, reason and device."""

    day = models.DateField(_("day"))
    door = models.CharField(_("door"), max_length=8, choices=Door.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=RejectReason.choices)
    # The token prefix the message claimed ("" without one): an unknown device is counted too.
    device_prefix = models.CharField(_("device"), max_length=16, blank=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    last_detail = models.CharField(_("last detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("rejection")
        verbose_name_plural = _("rejections")
        ordering = ["-day", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["day", "door", "reason", "device_prefix"], name="iot_rejection_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.reason} × {self.count}"
