from django.urls import path

from fieldservice.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.part_list, name="part_list"),
    path("new/", views.part_create, name="part_create"),
    path("<int:pk>/edit/", views.part_edit, name="part_edit"),
]
