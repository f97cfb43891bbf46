from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IotConfig(AppConfig):
    name = "fieldservice.iot"
    label = "iot"
    verbose_name = _("Connected machines")

    def ready(self):
        self.register_machine_data()

    @staticmethod
    def register_machine_data():
        """Machine data on lower apps' pages: the live state on the equipment page, the last
        readings on the engineer's phone order page."""
        from fieldservice.core import panels
        from fieldservice.iot.views.machines import machine_panel, phone_panel

        panels.register("assets.equipment", machine_panel)
        panels.register("field.order", phone_panel)
