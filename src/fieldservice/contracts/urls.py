from django.urls import path

from fieldservice.contracts import views

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list, name="list"),
    path("new/", views.contract_create, name="create"),
    path("expiring/", views.expiring, name="expiring"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_edit, name="edit"),
    path("<int:pk>/activate/", views.contract_activate, name="activate"),
    path("<int:pk>/terminate/", views.contract_terminate, name="terminate"),
    path("<int:pk>/extend/", views.contract_extend, name="extend"),
    path("price-lists/", views.price_list_list, name="price_lists"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="price_list_edit"),
    path("price-lists/<int:pk>/prices/new/", views.price_item_create, name="price_item_create"),
    path("prices/<int:pk>/edit/", views.price_item_edit, name="price_item_edit"),
    path("prices/<int:pk>/delete/", views.price_item_delete, name="price_item_delete"),
]
