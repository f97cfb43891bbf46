from django.urls import path

from fieldservice.core import imports

app_name = "core"
urlpatterns = [
    path("import/", imports.import_view, name="import"),
    path("import/template/<str:kind>.xlsx", imports.template_view, name="import_template"),
]
