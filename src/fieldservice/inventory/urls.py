from django.urls import path

from fieldservice.inventory.views import catalogue

app_name = "inventory"
urlpatterns = [
    path("", catalogue.part_list, name="part_list"),
    path("new/", catalogue.part_create, name="part_create"),
    path("<int:pk>/edit/", catalogue.part_edit, name="part_edit"),
]
