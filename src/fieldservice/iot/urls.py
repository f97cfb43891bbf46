app_name = "iot"
urlpatterns: list = []
