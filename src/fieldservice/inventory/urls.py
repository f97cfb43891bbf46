from django.urls import path

from fieldservice.inventory import views

app_name = "inventory"
urlpatterns = [
    path("", views.part_list, name="part_list"),
]
