from django.urls import path

from fieldservice.assets import views

app_name = "assets"
urlpatterns = [
    path("equipment/", views.equipment_list, name="equipment_list"),
    path("models/", views.product_model_list, name="product_model_list"),
]
