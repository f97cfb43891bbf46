from django.urls import path

from fieldservice.billing.views import margins

app_name = "billing"
urlpatterns: list = [
    # Cost and margin
    path("margins/", margins.margin_orders, name="margin_orders"),
    path("margins/contracts/", margins.margin_contracts, name="margin_contracts"),
    path("margins/customers/", margins.margin_customers, name="margin_customers"),
    path("margins/engineers/", margins.margin_engineers, name="margin_engineers"),
]
