from django.db import models
from django.utils.translation import gettext_lazy as _


class FeeKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")
    PART = "part", _("Part")
    SERVICE = "service", _("Service item")
    OTHER = "other", _("Other cost")


class Payer(models.TextChoices):
    """Who pays a fee line; the entitlement of the order decides it, line by line."""

    CUSTOMER = "customer", _("Customer pays")
    WARRANTY = "warranty", _("Free: warranty")
    CONTRACT = "contract", _("Free: contract")


class FeeSource(models.TextChoices):
    AUTO = "auto", _("Priced from the visit")
    ENGINEER = "engineer", _("Added by the engineer")
    OFFICE = "office", _("Added by the back office")
    QUOTATION = "quotation", _("From the approved quotation")


class QuotationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Awaiting the customer")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    VOID = "void", _("Voided")
    EXPIRED = "expired", _("Expired")


class DecisionChannel(models.TextChoices):
    FOLLOW_LINK = "follow_link", _("Follow link")
    PHONE = "phone", _("Signed on the engineer's phone")
    DESK = "desk", _("Recorded by the office")
    API = "api", _("API")


class BillStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    WRITTEN_OFF = "written_off", _("Written off")


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class OnlinePaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Invoice issued")
    REJECTED = "rejected", _("Rejected")


class SettlementBasis(models.TextChoices):
    PER_ORDER = "per_order", _("Per order")
    PER_HOUR = "per_hour", _("Per labour hour")
    PER_KM = "per_km", _("Per kilometre")
    LABOUR_SHARE = "labour_share", _("Share of labour revenue (%)")
    PARTS_FEE = "parts_fee", _("Parts handling fee (per cent of the parts price)")
    SCORE_BONUS = "score_bonus", _("Bonus for a rating at or above")
    SCORE_DEDUCTION = "score_deduction", _("Deduction for a rating at or below")
    SLA_BONUS = "sla_bonus", _("Bonus when every SLA target is met")
    SLA_DEDUCTION = "sla_deduction", _("Deduction when an SLA target is missed")


# Bases whose rate is a percentage; the others are an amount.
PERCENT_BASES = frozenset({SettlementBasis.LABOUR_SHARE, SettlementBasis.PARTS_FEE})
# Bases that need a rating threshold.
SCORE_BASES = frozenset({SettlementBasis.SCORE_BONUS, SettlementBasis.SCORE_DEDUCTION})
DEDUCTION_BASES = frozenset({SettlementBasis.SCORE_DEDUCTION, SettlementBasis.SLA_DEDUCTION})


class PartyKind(models.TextChoices):
    ENGINEER = "engineer", _("Engineer")
    PROVIDER = "provider", _("Service provider")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")
    APPROVED = "approved", _("Approved")
    SETTLED = "settled", _("Settled")


class StatementLineKind(models.TextChoices):
    ORDER = "order", _("Order")
    ADJUSTMENT = "adjustment", _("Adjustment")


class StatementLineStatus(models.TextChoices):
    OPEN = "open", _("Not yet confirmed")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")
    CORRECTED = "corrected", _("Corrected")


STATUS_COLOURS = {
    QuotationStatus.DRAFT: "",
    QuotationStatus.SENT: "warn",
    QuotationStatus.APPROVED: "ok",
    QuotationStatus.DECLINED: "bad",
    QuotationStatus.VOID: "",
    QuotationStatus.EXPIRED: "",
    BillStatus.ISSUED: "warn",
    BillStatus.PARTLY_PAID: "warn",
    BillStatus.PAID: "ok",
    BillStatus.WRITTEN_OFF: "bad",
    StatementStatus.CONFIRMED: "ok",
    StatementStatus.DISPUTED: "bad",
    StatementStatus.APPROVED: "ok",
    StatementStatus.SETTLED: "ok",
}

# Labels of the actions this app records in the event log (registered in apps.py).
ACTION_LABELS = {
    "fee_added": _("Fee line added"),
    "fee_corrected": _("Fee line corrected"),
    "fee_voided": _("Fee line removed"),
    "order_priced": _("Order priced"),
    "quotation_revised": _("Quotation revised"),
    "quotation_sent": _("Quotation sent"),
    "quotation_approved": _("Quotation approved"),
    "quotation_declined": _("Quotation declined"),
    "quotation_voided": _("Quotation voided"),
    "quotation_expired": _("Quotation expired"),
    "bill_issued": _("Bill issued"),
    "bill_written_off": _("Bill written off"),
    "payment_recorded": _("Payment recorded"),
    "invoice_requested": _("Invoice requested"),
    "invoice_issued": _("Invoice issued"),
    "invoice_rejected": _("Invoice request rejected"),
    "statement_generated": _("Statement generated"),
    "statement_confirmed": _("Statement confirmed"),
    "statement_line_disputed": _("Statement line disputed"),
    "statement_line_corrected": _("Statement line corrected"),
    "statement_approved": _("Statement approved"),
    "statement_settled": _("Statement settled"),
    "settlement_adjusted": _("Settlement adjustment"),
}

# Words for the logged changes that are not a field of the logged object (registered in apps.py).
CHANGE_LABELS = {
    "open_amount": _("open amount"),
    "online_payment": _("online payment"),
    "invoice": _("invoice"),
    "line": _("line"),
    "line_status": _("status of the line"),
    "order": _("work order"),
    "period": _("period"),
    "payment_reference": _("payment reference"),
    "invoice_number": _("invoice number"),
    "paid": _("paid"),
    "total": _("total"),
    "amount": _("amount"),
    "version": _("version"),
    "lines": _("lines"),
    "status": _("status"),
    "decided_via": _("decided through"),
    "due_on": _("due date"),
    "dispute_reason": _("reason for dispute"),
    "decline_reason": _("reason for declining"),
    "void_reason": _("reason for removal"),
}
