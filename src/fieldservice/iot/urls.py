from fieldservice.iot.views import alarms, devices, machines, rules

app_name = "iot"
urlpatterns: list = []
urlpatterns += devices.urlpatterns
urlpatterns += machines.urlpatterns
urlpatterns += rules.urlpatterns
urlpatterns += alarms.urlpatterns
