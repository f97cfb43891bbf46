from django.urls import path

from fieldservice.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/discard/", views.run_discard, name="run_discard"),
    path("runs/<int:pk>/apply/", views.run_apply, name="run_apply"),
]
