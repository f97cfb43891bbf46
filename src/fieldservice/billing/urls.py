from django.urls import path

from fieldservice.billing.views import fees

app_name = "billing"
urlpatterns: list = [
    path("orders/<int:order_pk>/fees/add/", fees.fee_add, name="fee_add"),
    path("orders/<int:order_pk>/fees/other/", fees.other_cost, name="other_cost"),
    path("orders/<int:order_pk>/price/", fees.order_price, name="order_price"),
    path("fees/<int:pk>/correct/", fees.fee_correct, name="fee_correct"),
    path("fees/<int:pk>/void/", fees.fee_void, name="fee_void"),
]
