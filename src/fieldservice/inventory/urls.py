from django.urls import path

from fieldservice.inventory.views import catalogue, stock, transfers, van, warehouses

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
    path("transfers/", transfers.transfer_list, name="transfer_list"),
    path("transfers/new/", transfers.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", transfers.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/approve/", transfers.transfer_approve, name="transfer_approve"),
    path("transfers/<int:pk>/reject/", transfers.transfer_reject, name="transfer_reject"),
    path("transfers/<int:pk>/cancel/", transfers.transfer_cancel, name="transfer_cancel"),
    path("transfers/<int:pk>/ship/", transfers.transfer_ship, name="transfer_ship"),
    path("transfers/<int:pk>/receive/", transfers.transfer_receive, name="transfer_receive"),
    path("my-stock/", van.my_stock, name="van_stock"),
    path("my-stock/request/", van.request_parts, name="van_request"),
    path("my-stock/requests/", van.my_requests, name="van_requests"),
    path("my-stock/requests/<int:pk>/receive/", van.confirm_receipt, name="van_receive"),
    path("my-stock/requests/<int:pk>/ship/", van.hand_over, name="van_ship"),
    path("my-stock/requests/<int:pk>/cancel/", van.cancel_request, name="van_cancel"),
    path("my-stock/return/", van.return_parts, name="van_return"),
]
