"""Customer care (客户关怀): plans that greet, thank and remind customers, and the touches they make.

A plan picks its customers by tier and kind (or names them), says why (the occasion), how (SMS,
e-mail, a printed letter, a call or a visit), what (a subject and text with placeholders), who takes
part, and what it may cost. Running it writes one `CareTouch` per customer (a unique constraint:
running twice, or at once, writes nothing twice): a message that leaves through the notification
channels, a letter to print, or a task for one of the people named. Its status moves only through
the transition table in services/care.py.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.customers.models import Contact, Customer

MONEY = {"max_digits": 12, "decimal_places": 2}
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 4000


class CarePlanStatus(models.TextChoices):
    PLAN = "plan", _("Planned")
    ACTIVE = "active", _("Active")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")
    INVALID = "invalid", _("Invalid")


class CareOccasion(models.TextChoices):
    FESTIVAL = "festival", _("Festival")
    INSTALL_ANNIVERSARY = "install_anniversary", _("Anniversary of installation")
    AFTER_REPAIR = "after_repair", _("After a repair")
    WARRANTY_ENDING = "warranty_ending", _("Warranty ending")
    CONTRACT_RENEWAL = "contract_renewal", _("Contract renewal")
    OTHER = "other", _("Other")


class CareMethod(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Printed letter")
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")


# The methods that become a task for one of the plan's people; the others leave without one.
TASK_METHODS = frozenset({CareMethod.CALL, CareMethod.VISIT})
MESSAGE_METHODS = frozenset({CareMethod.SMS, CareMethod.EMAIL})


class CareTouchStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    SENT = "sent", _("Sent")
    PRINTED = "printed", _("To print")
    SKIPPED = "skipped", _("No address")


class CareOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    REFUSED = "refused", _("Refused")
    LEAD = "lead", _("Lead found")
    REQUEST = "request", _("Request raised")


# The outcomes that count as the customer's response (a refusal is an answer too).
RESPONSE_OUTCOMES = frozenset({CareOutcome.REACHED, CareOutcome.REFUSED, CareOutcome.LEAD, CareOutcome.REQUEST})


class CarePlan(models.Model):
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=CarePlanStatus.choices, default=CarePlanStatus.PLAN, editable=False
    )
    occasion = models.CharField(_("occasion"), max_length=20, choices=CareOccasion.choices)
    occasion_note = models.CharField(_("occasion in your words"), max_length=200, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=CareMethod.choices, blank=True)
    # Customers of these tiers and kinds (empty: any), or, when `chosen` is set, the chosen ones.
    target_tiers = models.JSONField(_("customer tiers"), default=list, blank=True)
    target_kinds = models.JSONField(_("customer kinds"), default=list, blank=True)
    target_industry = models.CharField(_("industry"), max_length=100, blank=True)
    chosen = models.BooleanField(_("chosen customers only"), default=False)
    customers = models.ManyToManyField(Customer, verbose_name=_("chosen customers"), blank=True, related_name="+")
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH, blank=True)
    body = models.TextField(_("text"), max_length=BODY_MAX_LENGTH, blank=True)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people taking part"), blank=True, related_name="care_plans"
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    budget = models.DecimalField(_("budget"), **MONEY, default=Decimal("0"))
    actual_cost = models.DecimalField(_("actual cost"), **MONEY, default=Decimal("0"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # Requests a touched customer files within this many days count as the plan's effect.
    effect_days = models.PositiveIntegerField(_("effect window (days)"), default=30)
    invalid_reason = models.CharField(_("reason for invalidating"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    run_at = models.DateTimeField(_("first run"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "starts_on"], name="care_plan_status_start")]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0, actual_cost__gte=0), name="care_plan_money_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="care_plan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def occasion_label(self) -> str:
        return self.occasion_note or str(self.get_occasion_display())


class CareTouch(models.Model):
    """One customer reached (or to reach) by one plan: a message sent, a letter to print, or a
    task for `assignee` whose outcome he records."""

    plan = models.ForeignKey(CarePlan, verbose_name=_("care plan"), on_delete=models.CASCADE, related_name="touches")
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(_("method"), max_length=10, choices=CareMethod.choices)
    status = models.CharField(_("status"), max_length=10, choices=CareTouchStatus.choices, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_tasks",
    )
    # Where it went (copied at the run: the contact may change later) and what it said.
    to_name = models.CharField(_("to"), max_length=100, blank=True)
    to_phone = models.CharField(_("phone"), max_length=32, blank=True)
    to_email = models.EmailField(_("e-mail"), blank=True)
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH, blank=True)
    body = models.TextField(_("text"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CareOutcome.choices, blank=True)
    outcome_note = models.CharField(_("note"), max_length=500, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    touched_at = models.DateTimeField(_("touched"), default=timezone.now)
    # The end of the window in which the customer's requests count as this touch's effect.
    effect_until = models.DateTimeField(_("effect counted until"))

    class Meta:
        verbose_name = _("care touch")
        verbose_name_plural = _("care touches")
        ordering = ["plan", "customer__name", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "customer"], name="care_touch_one_per_customer")]
        indexes = [
            models.Index(fields=["assignee", "status"], name="care_touch_assignee"),
            models.Index(fields=["customer", "touched_at"], name="care_touch_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.customer}"


# Labels of the actions care records in the event log (registered in apps.py).
CARE_ACTION_LABELS = {
    "care_activate": _("Care plan activated"),
    "care_run": _("Care plan run"),
    "care_close": _("Care plan closed"),
    "care_invalidate": _("Care plan invalidated"),
    "care_touched": _("Customer touched by a care plan"),
}
