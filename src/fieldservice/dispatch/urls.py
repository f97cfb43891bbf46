from django.urls import path

from fieldservice.dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/candidates/", views.candidates, name="candidates"),
    path("provider/", views.provider_queue, name="provider_queue"),
    path("provider/assignments/<int:pk>/assign/", views.provider_assign, name="provider_assign"),
    path("provider/assignments/<int:pk>/reject/", views.provider_reject, name="provider_reject"),
]
