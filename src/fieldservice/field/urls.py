from django.urls import path

from fieldservice.field import views, views_steps

app_name = "field"
urlpatterns = [
    path("", views.today, name="today"),
    path("assignments/<int:pk>/accept/", views.accept, name="accept"),
    path("assignments/<int:pk>/reject/", views.reject, name="reject"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/start-travel/", views.start_travel, name="start_travel"),
    path("orders/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("orders/<int:pk>/work/", views.record_work, name="record_work"),
    path("orders/<int:pk>/parts/", views.use_part, name="use_part"),
    path("orders/<int:pk>/parts/<int:usage_pk>/remove/", views.remove_part, name="remove_part"),
    path("orders/<int:pk>/photos/", views.add_photos, name="add_photos"),
    path("orders/<int:pk>/signature/", views.capture_signature, name="capture_signature"),
    path("orders/<int:pk>/steps/<int:step_pk>/answer/", views_steps.answer, name="answer_step"),
    path("orders/<int:pk>/complete/", views.complete, name="complete"),
    path("orders/<int:pk>/report.pdf", views.report_pdf, name="report_pdf"),
]
