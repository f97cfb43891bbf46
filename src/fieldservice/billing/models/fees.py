"""What an order is worth and what it cost: its fee lines."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import FeeKind, FeeSource, Payer
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.field.models import PartUsage
from fieldservice.inventory.models import Part
from fieldservice.workorders.models import Attachment, WorkOrder

MONEY = {"max_digits": 12, "decimal_places": 2}


class FeeLine(models.Model):
    """One priced line of a work order: labour, travel, a part, a service item or another cost.

    `amount` is the customer price after the discount, `cost` our internal cost; `payer` says
    whether the customer pays the line or warranty or a contract covers it, and `payer_reason` why
    (shown beside the line). Lines are written only by `billing.services.fees`; a voided line
    stays, so what was corrected remains readable."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.PROTECT, related_name="fee_lines"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    description = models.CharField(_("description"), max_length=200)
    part = models.ForeignKey(
        Part, verbose_name=_("part"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=Decimal("1"))
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY, default=Decimal("0"))
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    amount = models.DecimalField(_("price"), **MONEY, default=Decimal("0"))
    # Tax the bill adds on top of `amount` (an approved quotation's rate); price-list prices are
    # final, at 0. Tax is the state's, never revenue.
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=4, default=Decimal("0"))
    cost = models.DecimalField(_("cost"), **MONEY, default=Decimal("0"))
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    payer = models.CharField(_("who pays"), max_length=10, choices=Payer.choices, default=Payer.CUSTOMER)
    payer_reason = models.CharField(_("why"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=FeeSource.choices)
    part_usage = models.OneToOneField(
        PartUsage,
        verbose_name=_("part used"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fee_line",
    )
    quotation = models.ForeignKey(
        "billing.Quotation",
        verbose_name=_("quotation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fee_lines",
    )
    receipt = models.ForeignKey(
        Attachment, verbose_name=_("receipt"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_void = models.BooleanField(_("removed"), default=False)
    void_reason = models.CharField(_("reason for removal"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("fee line")
        verbose_name_plural = _("fee lines")
        ordering = ["work_order", "kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="fee_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0, discount__gte=0, amount__gte=0, unit_cost__gte=0, cost__gte=0),
                name="fee_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0, tax_rate__lte=100), name="fee_line_tax_rate_range"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=FeeKind.PART, part__isnull=False) | ~models.Q(kind=FeeKind.PART),
                name="fee_line_part_names_its_part",
            ),
        ]
        indexes = [models.Index(fields=["work_order", "is_void"])]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.description}"

    @property
    def charged(self) -> Decimal:
        """What the customer is charged for this line."""
        return self.amount if self.payer == Payer.CUSTOMER and not self.is_void else Decimal("0")
