from django.urls import path

from fieldservice.pool import views

app_name = "pool"
urlpatterns = [
    path("", views.pool, name="list"),
    path("offers/<int:pk>/grab/", views.grab, name="grab"),
    path("manage/", views.manage, name="manage"),
    path("orders/<int:order_pk>/publish/", views.publish, name="publish"),
    path("offers/<int:pk>/approve/", views.approve, name="approve"),
    path("offers/<int:pk>/decline/", views.decline, name="decline"),
    path("offers/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
