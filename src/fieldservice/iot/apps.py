from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IotConfig(AppConfig):
    name = "fieldservice.iot"
    label = "iot"
    verbose_name = _("Connected machines")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.iot import hooks
        from fieldservice.iot.choices import ACTION_LABELS
        from fieldservice.iot.services import rules
        from fieldservice.workorders import hooks as order_hooks

        register_action_labels(self.label, ACTION_LABELS)
        hooks.on_ingested(rules.on_ingested)
        order_hooks.on_moved(rules.on_orders_moved)
        self.register_machine_data()

    @staticmethod
    def register_machine_data():
        """Machine data on lower apps' pages: the live state on the equipment page, the last
        readings on the engineer's phone order page."""
        from fieldservice.core import panels
        from fieldservice.iot.views.machines import machine_panel, phone_panel

        panels.register("assets.equipment", machine_panel)
        panels.register("field.order", phone_panel)
