from fieldservice.billing.models.charges import Bill, BillLine, InvoiceRequest, OnlinePayment, Payment
from fieldservice.billing.models.fees import FeeLine
from fieldservice.billing.models.margins import OrderMargin
from fieldservice.billing.models.quotes import Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.models.settlement import SettlementRule, Statement, StatementLine

__all__ = [
    "Bill",
    "BillLine",
    "FeeLine",
    "InvoiceRequest",
    "OnlinePayment",
    "OrderMargin",
    "Payment",
    "Quotation",
    "QuotationLine",
    "QuotationVersion",
    "SettlementRule",
    "Statement",
    "StatementLine",
]
