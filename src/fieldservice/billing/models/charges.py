"""What the customer owes and pays: bills (收费单), invoice requests (开票申请), payments."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import (
    BillStatus,
    FeeKind,
    InvoiceRequestStatus,
    OnlinePaymentStatus,
    PaymentMethod,
)
from fieldservice.billing.models.fees import MONEY, FeeLine
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.customers.models import Customer
from fieldservice.workorders.models import WorkOrder


class Bill(models.Model):
    """The customer's bill for one order, made from its chargeable fee lines (copied, so a bill
    reads as it was issued). `paid` moves only with payments, under a row lock."""

    number = models.CharField(_("bill number"), max_length=20, unique=True)
    work_order = models.OneToOneField(
        WorkOrder, verbose_name=_("work order"), on_delete=models.PROTECT, related_name="bill"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="bills")
    status = models.CharField(
        _("status"), max_length=12, choices=BillStatus.choices, default=BillStatus.DRAFT, editable=False
    )
    currency = models.CharField(_("currency"), max_length=3, default=DEFAULT_CURRENCY)
    # `total` is what the customer owes: the lines' amounts and `tax`.
    tax = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))
    paid = models.DecimalField(_("paid"), **MONEY, default=Decimal("0"))
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid in full"), null=True, blank=True)
    written_off_reason = models.CharField(_("reason for writing off"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(total__gte=0, paid__gte=0), name="bill_amounts_not_negative"),
            models.CheckConstraint(condition=models.Q(paid__lte=models.F("total")), name="bill_paid_at_most_total"),
        ]
        indexes = [models.Index(fields=["customer", "status"]), models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return self.number

    @property
    def open_amount(self) -> Decimal:
        if self.status in (BillStatus.DRAFT, BillStatus.WRITTEN_OFF):
            return Decimal("0")
        return self.total - self.paid


class BillLine(models.Model):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    fee_line = models.ForeignKey(FeeLine, on_delete=models.PROTECT, null=True, blank=True, related_name="bill_lines")
    kind = models.CharField(_("kind"), max_length=10, choices=FeeKind.choices)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "pk"]

    def __str__(self) -> str:
        return self.description


class OnlinePayment(models.Model):
    """A payment started through a gateway (the sandbox here; WeChat Pay or Alipay adapters plug
    into `billing.gateways`). It becomes a `Payment` when the gateway's signed notice says paid."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="online_payments")
    gateway = models.CharField(_("gateway"), max_length=20)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    token = models.CharField(max_length=40, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OnlinePaymentStatus.choices, default=OnlinePaymentStatus.PENDING
    )
    gateway_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="online_payment_positive")]

    def __str__(self) -> str:
        return f"{self.bill} {self.amount}"


class Payment(models.Model):
    bill = models.ForeignKey(Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    paid_at = models.DateTimeField(_("paid"), default=timezone.now)
    online_payment = models.OneToOneField(
        OnlinePayment, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive")]

    def __str__(self) -> str:
        return f"{self.bill} {self.amount}"


class InvoiceRequest(models.Model):
    """The customer's request for a tax invoice (开票申请) for a bill."""

    bill = models.ForeignKey(Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="invoice_requests")
    title = models.CharField(_("invoice title"), max_length=200)
    tax_number = models.CharField(_("tax number"), max_length=30)
    address_phone = models.CharField(_("address and phone"), max_length=300, blank=True)
    bank_account = models.CharField(_("bank and account"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail for the invoice"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvoiceRequestStatus.choices,
        default=InvoiceRequestStatus.REQUESTED,
        editable=False,
    )
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True)
    reject_reason = models.CharField(_("reason for rejecting"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice request")
        verbose_name_plural = _("invoice requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["bill"], condition=models.Q(status="requested"), name="invoice_request_one_open_per_bill"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bill}: {self.title}"
