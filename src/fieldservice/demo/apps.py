from django.apps import AppConfig


class DemoConfig(AppConfig):
    # The top layer: it seeds every domain app through their services, and nothing imports it,
    # so core stays at the bottom. No models and no verbose_name: the admin never lists it.
    name = "fieldservice.demo"
    label = "demo"
