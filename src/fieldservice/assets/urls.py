from django.urls import path

from fieldservice.assets import views

app_name = "assets"
urlpatterns = [
    path("equipment/", views.equipment_list, name="equipment_list"),
    path("equipment/new/", views.equipment_create, name="equipment_create"),
    path("equipment/form-links/", views.equipment_links, name="equipment_links"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("equipment/<int:pk>/invalidate/", views.equipment_invalidate, name="equipment_invalidate"),
    path("equipment/<int:pk>/reinstate/", views.equipment_reinstate, name="equipment_reinstate"),
    path("equipment/<int:pk>/renew-qr/", views.equipment_renew_token, name="equipment_renew_token"),
    path("equipment/<int:pk>/documents/", views.document_add, name="document_add"),
    path("equipment/<int:pk>/documents/<int:document_pk>/", views.document_download, name="document_download"),
    path("equipment/<int:pk>/label.png", views.equipment_label_png, name="equipment_label_png"),
    path("equipment/<int:pk>/label.svg", views.equipment_label_svg, name="equipment_label_svg"),
    path("equipment/<int:pk>/label/", views.equipment_label_print, name="equipment_label_print"),
    path("models/", views.product_model_list, name="product_model_list"),
    path("models/new/", views.product_model_create, name="product_model_create"),
    path("models/<int:pk>/", views.product_model_detail, name="product_model_detail"),
    path("models/<int:pk>/edit/", views.product_model_edit, name="product_model_edit"),
    path("models/<int:pk>/image/", views.product_model_image, name="product_model_image"),
    path("models/<int:pk>/bom/", views.bom_line_add, name="bom_line_add"),
    path("models/<int:pk>/bom/<int:part_pk>/remove/", views.bom_line_remove, name="bom_line_remove"),
]
