from django.urls import path

from fieldservice.billing.views import charges, fees, margins, payments, quotations, settlement

app_name = "billing"
urlpatterns = [
    # Fee lines
    path("orders/<int:order_pk>/fees/add/", fees.fee_add, name="fee_add"),
    path("orders/<int:order_pk>/fees/other/", fees.other_cost, name="other_cost"),
    path("orders/<int:order_pk>/price/", fees.order_price, name="order_price"),
    path("fees/<int:pk>/correct/", fees.fee_correct, name="fee_correct"),
    path("fees/<int:pk>/void/", fees.fee_void, name="fee_void"),
    # Customer charges
    path("bills/", charges.bill_list, name="bill_list"),
    path("bills/<int:pk>/", charges.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/issue/", charges.bill_issue, name="bill_issue"),
    path("bills/<int:pk>/payments/", charges.bill_payment, name="bill_payment"),
    path("bills/<int:pk>/write-off/", charges.bill_write_off, name="bill_write_off"),
    path("invoice-requests/<int:pk>/issue/", charges.invoice_issue, name="invoice_issue"),
    path("invoice-requests/<int:pk>/reject/", charges.invoice_reject, name="invoice_reject"),
    path("orders/<int:order_pk>/bill/", charges.order_bill, name="order_bill"),
    path("receivables/", charges.receivables, name="receivables"),
    path("pay/sandbox/<str:token>/", payments.sandbox_pay, name="sandbox_pay"),
    path("pay/notify/<str:gateway>/", payments.payment_notify, name="payment_notify"),
    # Quotations
    path("quotations/", quotations.quotation_list, name="quotation_list"),
    path("quotations/new/<int:order_pk>/", quotations.quotation_create, name="quotation_create"),
    path("quotations/<int:pk>/", quotations.quotation_detail, name="quotation_detail"),
    path("quotations/<int:pk>/revise/", quotations.quotation_revise, name="quotation_revise"),
    path("quotations/<int:pk>/send/", quotations.quotation_send, name="quotation_send"),
    path("quotations/<int:pk>/void/", quotations.quotation_void, name="quotation_void"),
    path("quotations/<int:pk>/decision/", quotations.quotation_decide, name="quotation_decide"),
    path("quotations/<int:pk>/pdf/", quotations.quotation_pdf, name="quotation_pdf"),
    path("quotations/<int:pk>/sign/", quotations.phone_sign, name="quotation_phone_sign"),
    path("quotations/<int:pk>/phone-decline/", quotations.phone_decline, name="quotation_phone_decline"),
    # Cost and margin
    path("margins/", margins.margin_orders, name="margin_orders"),
    path("margins/contracts/", margins.margin_contracts, name="margin_contracts"),
    path("margins/customers/", margins.margin_customers, name="margin_customers"),
    path("margins/engineers/", margins.margin_engineers, name="margin_engineers"),
    # Settlement
    path("statements/", settlement.statement_list, name="statement_list"),
    path("statements/generate/", settlement.statements_generate, name="statements_generate"),
    path("statements/<int:pk>/", settlement.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/confirm/", settlement.statement_confirm, name="statement_confirm"),
    path("statements/<int:pk>/approve/", settlement.statement_approve, name="statement_approve"),
    path("statements/<int:pk>/settle/", settlement.statement_settle, name="statement_settle"),
    path("statement-lines/<int:pk>/dispute/", settlement.line_dispute, name="statement_line_dispute"),
    path("statement-lines/<int:pk>/correct/", settlement.line_correct, name="statement_line_correct"),
    path("statement-lines/<int:pk>/adjust/", settlement.line_adjust, name="statement_line_adjust"),
    path("settlement-rules/", settlement.rule_list, name="settlement_rule_list"),
    path("settlement-rules/new/", settlement.rule_create, name="settlement_rule_create"),
    path("settlement-rules/<int:pk>/edit/", settlement.rule_edit, name="settlement_rule_edit"),
    path("settlement-rules/<int:pk>/deactivate/", settlement.rule_deactivate, name="settlement_rule_deactivate"),
    path("my-statements/", settlement.my_statements, name="my_statements"),
    path("my-statements/<int:pk>/", settlement.my_statement, name="my_statement"),
]
