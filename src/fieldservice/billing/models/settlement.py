"""Settlement (结算) with our engineers and partner providers, by statement."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation, ServiceTeam
from fieldservice.billing.choices import (
    PartyKind,
    SettlementBasis,
    StatementLineKind,
    StatementLineStatus,
    StatementStatus,
)
from fieldservice.billing.models.fees import MONEY
from fieldservice.core.choices import ServiceType
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.workorders.models import WorkOrder


class SettlementRule(models.Model):
    """One way a party earns from an order. A rule names a provider (its orders), or a team of our
    engineers, or neither (every engineer of ours); `service_type` narrows it to one kind of work.
    `rate` is an amount, or a percentage for the share and handling-fee bases; the rating bases
    need a `threshold` (1–5)."""

    name = models.CharField(_("name"), max_length=100)
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_rules",
    )
    team = models.ForeignKey(
        ServiceTeam,
        verbose_name=_("engineer team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_rules",
    )
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices, blank=True)
    basis = models.CharField(_("basis"), max_length=20, choices=SettlementBasis.choices)
    rate = models.DecimalField(_("rate"), **MONEY)
    threshold = models.DecimalField(_("rating threshold"), max_digits=3, decimal_places=1, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement rule")
        verbose_name_plural = _("settlement rules")
        ordering = ["provider__name", "team__name", "basis", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="settlement_rule_rate_not_negative"),
            models.CheckConstraint(
                condition=models.Q(provider__isnull=True) | models.Q(team__isnull=True),
                name="settlement_rule_provider_or_team",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Statement(models.Model):
    """One party's statement for one period: the orders closed in it and the adjustments due."""

    number = models.CharField(_("statement number"), max_length=24, unique=True)
    party_kind = models.CharField(_("party"), max_length=10, choices=PartyKind.choices)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
    )
    # "e<user id>" or "p<organisation id>": one key for "the same party" in constraints.
    party_key = models.CharField(max_length=20, editable=False)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    status = models.CharField(
        _("status"), max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT, editable=False
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    generated_at = models.DateTimeField(_("generated"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        ordering = ["-period_start", "party_kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["party_key", "period_start", "period_end"], name="statement_one_per_party_period"
            ),
            models.CheckConstraint(
                condition=models.Q(party_kind=PartyKind.ENGINEER, engineer__isnull=False, provider__isnull=True)
                | models.Q(party_kind=PartyKind.PROVIDER, provider__isnull=False, engineer__isnull=True),
                name="statement_names_its_party",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="statement_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["provider", "status"]), models.Index(fields=["engineer", "status"])]

    def __str__(self) -> str:
        return self.number

    @property
    def party(self):
        return self.engineer if self.party_kind == PartyKind.ENGINEER else self.provider


class StatementLine(models.Model):
    """What a party earns for one order (kind order: at most one per order, ever), or an adjustment
    (a correction after settlement, carried into the next statement of the party). A pending
    adjustment has no statement yet."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    party_key = models.CharField(max_length=20, editable=False)
    kind = models.CharField(
        _("kind"), max_length=10, choices=StatementLineKind.choices, default=StatementLineKind.ORDER
    )
    work_order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("work order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="settlement_lines",
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    # How the amount was reached: [{"basis", "label", "quantity", "rate", "amount"}, ...]
    breakdown = models.JSONField(_("breakdown"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementLineStatus.choices, default=StatementLineStatus.OPEN
    )
    dispute_reason = models.CharField(_("reason for dispute"), max_length=500, blank=True)
    correction_reason = models.CharField(_("reason for correction"), max_length=500, blank=True)
    original_amount = models.DecimalField(_("amount before correction"), **MONEY, null=True, blank=True)
    # Set on lines a person adds (adjustments); never looked up by, so not indexed.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "kind", "work_order", "pk"]
        constraints = [
            # Generating twice, or at once, never counts an order twice.
            models.UniqueConstraint(
                fields=["work_order"], condition=models.Q(kind="order"), name="statement_line_one_per_order"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="adjustment") | models.Q(statement__isnull=False, work_order__isnull=False),
                name="statement_order_line_is_placed",
            ),
        ]
        indexes = [models.Index(fields=["party_key", "statement"])]

    def __str__(self) -> str:
        return f"{self.statement or '—'}: {self.work_order or self.description}"
