from django.urls import path

from fieldservice.workorders import views

app_name = "workorders"
urlpatterns = [
    path("desk/", views.desk, name="desk"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/confirm/", views.request_confirm, name="request_confirm"),
    path("requests/<int:pk>/customer/", views.request_assign_customer, name="request_assign_customer"),
    path("requests/<int:pk>/resolve/", views.request_resolve, name="request_resolve"),
    path("requests/<int:pk>/discard/", views.request_discard, name="request_discard"),
    path("requests/<int:pk>/work-order/", views.request_create_order, name="request_create_order"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/hold/", views.order_hold, name="order_hold"),
    path("orders/<int:pk>/resume/", views.order_resume, name="order_resume"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/close/", views.order_close, name="order_close"),
    path("orders/<int:pk>/needed-parts/", views.order_needed_parts, name="order_needed_parts"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
