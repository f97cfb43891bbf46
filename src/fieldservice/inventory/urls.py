from django.urls import path

from fieldservice.inventory.views import catalogue, stock, warehouses

app_name = "inventory"
urlpatterns = [
    path("", catalogue.part_list, name="part_list"),
    path("new/", catalogue.part_create, name="part_create"),
    path("<int:pk>/edit/", catalogue.part_edit, name="part_edit"),
    # The parts keeper's desk (under stock/, so the menu's "Stock" is the page's entry).
    path("stock/", stock.stock_list, name="stock_list"),
    path("stock/receive/", stock.receive, name="receive"),
    path("stock/scrap/", stock.scrap, name="scrap"),
    path("stock/labels/", stock.print_labels, name="labels"),
    path("stock/parts/<int:pk>/", stock.part_stock, name="part_stock"),
    path("stock/units/<int:pk>/", stock.unit_detail, name="unit_detail"),
    path("stock/warehouses/", warehouses.warehouse_list, name="warehouse_list"),
    path("stock/warehouses/new/", warehouses.warehouse_create, name="warehouse_create"),
    path("stock/warehouses/<int:pk>/", warehouses.warehouse_detail, name="warehouse_detail"),
    path("stock/warehouses/<int:pk>/edit/", warehouses.warehouse_edit, name="warehouse_edit"),
    path("stock/warehouses/<int:pk>/keepers/", warehouses.warehouse_keepers, name="warehouse_keepers"),
    path("stock/warehouses/<int:pk>/bins/new/", warehouses.bin_create, name="bin_create"),
]
