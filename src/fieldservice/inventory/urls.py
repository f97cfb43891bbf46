from django.urls import path

from fieldservice.inventory.views import catalogue, defects, factory

app_name = "inventory"
urlpatterns = [
    path("", catalogue.part_list, name="part_list"),
    path("new/", catalogue.part_create, name="part_create"),
    path("<int:pk>/edit/", catalogue.part_edit, name="part_edit"),
    path("defects/", defects.defect_list, name="defect_list"),
    path("van/owed/", defects.my_defects, name="my_defects"),
    path("factory-returns/", factory.factory_return_list, name="factory_return_list"),
    path("factory-returns/new/", factory.factory_return_create, name="factory_return_create"),
    path("factory-returns/<int:pk>/", factory.factory_return_detail, name="factory_return_detail"),
    path("factory-returns/<int:pk>/ship/", factory.factory_return_ship, name="factory_return_ship"),
    path("factory-returns/<int:pk>/findings/", factory.factory_return_findings, name="factory_return_findings"),
    path("factory-returns/<int:pk>/cancel/", factory.factory_return_cancel, name="factory_return_cancel"),
]
