from django.urls import path

from fieldservice.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("orders/<int:pk>/visit/", views.order_visit, name="order_visit"),
    path("absences/", views.absences, name="absences"),
    path("absences/<int:pk>/delete/", views.absence_delete, name="absence_delete"),
    path("durations/", views.durations, name="durations"),
    path("durations/<int:pk>/delete/", views.duration_delete, name="duration_delete"),
    path("me/", views.my_schedule, name="me"),
    path("me/feed/", views.my_feed, name="my_feed"),
    path("me/feed/rotate/", views.my_feed_rotate, name="my_feed_rotate"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
]
