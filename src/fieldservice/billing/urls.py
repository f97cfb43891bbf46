from django.urls import path

from fieldservice.billing.views import quotations

app_name = "billing"
urlpatterns = [
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
]
