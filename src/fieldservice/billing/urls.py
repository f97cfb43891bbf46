from django.urls import path

from fieldservice.billing.views import charges, margins, payments

app_name = "billing"
urlpatterns = [
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
    # Cost and margin
    path("margins/", margins.margin_orders, name="margin_orders"),
    path("margins/contracts/", margins.margin_contracts, name="margin_contracts"),
    path("margins/customers/", margins.margin_customers, name="margin_customers"),
    path("margins/engineers/", margins.margin_engineers, name="margin_engineers"),
]
