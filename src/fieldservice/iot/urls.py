from fieldservice.iot.views import machines

app_name = "iot"
urlpatterns: list = []
urlpatterns += machines.urlpatterns
