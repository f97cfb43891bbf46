from django.urls import path

from fieldservice.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("<int:pk>/open/", views.notification_open, name="open"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("preferences/", views.preferences, name="preferences"),
    path("manage/", views.manage, name="manage"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/<str:event>/<str:language>/", views.template_edit, name="template_edit"),
    path("templates/<str:event>/<str:language>/reset/", views.template_reset, name="template_reset"),
    path("im/", views.im_list, name="im_list"),
    path("im/new/", views.im_create, name="im_create"),
    path("im/<int:pk>/", views.im_edit, name="im_edit"),
    path("im/<int:pk>/test/", views.im_test, name="im_test"),
    path("im/<int:pk>/delete/", views.im_delete, name="im_delete"),
    path("sms/", views.sms_list, name="sms_list"),
    path("sms/new/", views.sms_create, name="sms_create"),
    path("sms/<int:pk>/", views.sms_edit, name="sms_edit"),
    path("sms/<int:pk>/test/", views.sms_test, name="sms_test"),
    path("sms/<int:pk>/delete/", views.sms_delete, name="sms_delete"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
