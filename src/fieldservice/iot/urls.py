from fieldservice.iot.views import alarms, rules

app_name = "iot"
urlpatterns: list = []
urlpatterns += rules.urlpatterns
urlpatterns += alarms.urlpatterns
