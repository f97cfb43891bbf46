from fieldservice.iot.views import alarms, machines, rules

app_name = "iot"
urlpatterns: list = []
urlpatterns += machines.urlpatterns
urlpatterns += rules.urlpatterns
urlpatterns += alarms.urlpatterns
