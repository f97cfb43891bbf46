"""The public pages behind the QR codes, mounted at /e/. No login.

Wired here, above both apps: the equipment's page belongs to assets, the fault report and its
follow-up page to workorders."""

from django.urls import path

from fieldservice.assets import views
from fieldservice.maintenance.views import plans as maintenance_views
from fieldservice.workorders import public_views

app_name = "public"
urlpatterns = [
    path("<str:token>/", views.public_equipment, name="equipment"),
    path("<str:token>/image/", views.public_equipment_image, name="equipment_image"),
    path("<str:token>/report/", public_views.report, name="report"),
    path("<str:token>/reading/", maintenance_views.public_reading, name="meter_reading"),
    path("<str:token>/reported/<str:follow_token>/", public_views.reported, name="reported"),
]
