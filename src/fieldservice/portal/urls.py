"""The customer's follow pages, mounted at /r/. No login: the follow token is the key."""

from django.urls import path

from fieldservice.portal import inspections, views

app_name = "portal"
urlpatterns = [
    # An inspection's own follow link (its own token, not a request's).
    path("i/<str:token>/", inspections.inspection, name="inspection"),
    path("i/<str:token>/report.pdf", inspections.inspection_pdf, name="inspection_pdf"),
    path("i/<str:token>/findings/<int:finding_pk>/decide/", inspections.inspection_change, name="inspection_change"),
    path("i/<str:token>/<slug:action>/", inspections.inspection_action, name="inspection_action"),
    path("<str:token>/", views.follow, name="follow"),
    path("<str:token>/orders/<int:order_pk>/evaluation/", views.evaluate, name="evaluate"),
    path("<str:token>/orders/<int:order_pk>/pay/", views.pay, name="pay"),
    path("<str:token>/orders/<int:order_pk>/invoice/", views.invoice, name="invoice"),
    path("<str:token>/orders/<int:order_pk>/report.pdf", views.report_pdf, name="report_pdf"),
    path(
        "<str:token>/orders/<int:order_pk>/quotations/<int:quotation_pk>/approve/",
        views.approve_quotation,
        name="approve_quotation",
    ),
    path(
        "<str:token>/orders/<int:order_pk>/quotations/<int:quotation_pk>/decline/",
        views.decline_quotation,
        name="decline_quotation",
    ),
    path(
        "<str:token>/orders/<int:order_pk>/quotations/<int:quotation_pk>/quotation.pdf",
        views.quotation_pdf,
        name="quotation_pdf",
    ),
]
