"""Cost and margin per order, kept as rows so lists, exports and the director's charts read them
without adding up fee and settlement lines again. `billing.services.margins.refresh` keeps them."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation
from fieldservice.billing.models.fees import MONEY
from fieldservice.contracts.models import Contract
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.customers.models import Customer
from fieldservice.workorders.models import WorkOrder

ZERO = Decimal("0")


class OrderMargin(models.Model):
    work_order = models.OneToOneField(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, primary_key=True, related_name="margin"
    )
    # The composite indexes in Meta serve the lookups by customer, contract and engineer: an index of
    # each foreign key alone would be one more write for every order a statement run refreshes.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    # The day that counts for reports: closed, else completed, else created.
    booked_on = models.DateField(_("date"), db_index=True)
    revenue = models.DecimalField(_("revenue"), **MONEY, default=ZERO)
    parts_cost = models.DecimalField(_("parts cost"), **MONEY, default=ZERO)
    labour_cost = models.DecimalField(_("labour cost"), **MONEY, default=ZERO)
    travel_cost = models.DecimalField(_("travel cost"), **MONEY, default=ZERO)
    other_cost = models.DecimalField(_("other costs"), **MONEY, default=ZERO)
    settlement_cost = models.DecimalField(_("settlement"), **MONEY, default=ZERO)
    margin = models.DecimalField(_("margin"), **MONEY, default=ZERO)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("order margin")
        verbose_name_plural = _("order margins")
        ordering = ["-booked_on", "-work_order"]
        indexes = [
            models.Index(fields=["customer", "booked_on"]),
            models.Index(fields=["contract", "booked_on"]),
            models.Index(fields=["engineer", "booked_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.margin}"

    @property
    def cost(self) -> Decimal:
        return self.parts_cost + self.labour_cost + self.travel_cost + self.other_cost + self.settlement_cost

    @property
    def margin_percent(self) -> Decimal | None:
        """The margin as a percentage of the revenue, to a tenth; None when nothing was charged."""
        if not self.revenue:
            return None
        return (self.margin * 100 / self.revenue).quantize(Decimal("0.1"))
