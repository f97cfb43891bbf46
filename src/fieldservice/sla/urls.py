from django.urls import path

from fieldservice.sla import views

app_name = "sla"
urlpatterns = [
    path("overdue/", views.overdue, name="overdue"),
    path("settings/", views.settings, name="settings"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<int:pk>/", views.calendar_detail, name="calendar_detail"),
    path("calendars/<int:pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/holidays/", views.holiday_add, name="holiday_add"),
    path("calendars/<int:pk>/holidays/load/", views.holiday_load, name="holiday_load"),
    path("holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
