from django.urls import path

from fieldservice.board import views

app_name = "board"
urlpatterns = [
    path("", views.board, name="board"),
    path("data.json", views.data, name="data"),
    path("queue/", views.queue, name="queue"),
    path("check/", views.check, name="check"),
    path("move/", views.move, name="move"),
    path("events/", views.events, name="events"),
    path("orders/<int:pk>/nearest.json", views.nearest, name="nearest"),
    path("boundaries.json", views.boundaries_json, name="boundaries"),
]
