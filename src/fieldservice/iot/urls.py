from fieldservice.iot.views import devices

app_name = "iot"
urlpatterns: list = [*devices.urlpatterns]
