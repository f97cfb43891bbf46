from django.urls import path

from fieldservice.site import imports

app_name = "site"
urlpatterns = [
    path("import/", imports.import_view, name="import"),
    path("import/template/<str:kind>.xlsx", imports.template_view, name="import_template"),
]
