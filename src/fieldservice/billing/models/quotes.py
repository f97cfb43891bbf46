"""Quotations (服务报价) for chargeable work; every change is a new version, the old ones stay."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import DecisionChannel, FeeKind, QuotationStatus
from fieldservice.billing.models.fees import MONEY
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.customers.models import Customer
from fieldservice.inventory.models import Part
from fieldservice.workorders.models import Attachment, WorkOrder


class Quotation(models.Model):
    number = models.CharField(_("quotation number"), max_length=20, unique=True)
    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.PROTECT, related_name="quotations"
    )
    # Kept beside the order so a customer's quotations are scoped without a join.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotations"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=QuotationStatus.choices, default=QuotationStatus.DRAFT, editable=False
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    valid_until = models.DateField(_("valid until"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_via = models.CharField(_("decided through"), max_length=12, choices=DecisionChannel.choices, blank=True)
    decided_version = models.PositiveIntegerField(_("version decided"), null=True, blank=True)
    signer_name = models.CharField(_("signed by"), max_length=100, blank=True)
    signature = models.ForeignKey(
        Attachment, verbose_name=_("signature"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "status"]), models.Index(fields=["status", "valid_until"])]

    def __str__(self) -> str:
        return self.number


class QuotationVersion(models.Model):
    """One version of a quotation, frozen once a later version exists."""

    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    valid_until = models.DateField(_("valid until"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0"))
    note = models.TextField(_("note"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"))
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    cost = models.DecimalField(_("estimated cost"), **MONEY, default=Decimal("0"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("written by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("quotation version")
        verbose_name_plural = _("quotation versions")
        ordering = ["quotation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["quotation", "number"], name="quotation_version_unique"),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0, tax_rate__lte=100), name="quotation_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quotation} v{self.number}"

    @property
    def profit(self) -> Decimal:
        return self.subtotal - self.discount - self.cost


class QuotationLine(models.Model):
    version = models.ForeignKey(QuotationVersion, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    description = models.CharField(_("description"), max_length=200)
    part = models.ForeignKey(
        Part, verbose_name=_("part"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    amount = models.DecimalField(_("price"), **MONEY)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=4, default=Decimal("0"))
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("quotation line")
        verbose_name_plural = _("quotation lines")
        ordering = ["version", "position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="quotation_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0, discount__gte=0, amount__gte=0, cost__gte=0),
                name="quotation_line_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.description
