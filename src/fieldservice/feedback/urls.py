from django.urls import path

from fieldservice.feedback import views

app_name = "feedback"
urlpatterns = [
    path("", views.evaluations, name="evaluations"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:pk>/", views.callback, name="callback"),
]
