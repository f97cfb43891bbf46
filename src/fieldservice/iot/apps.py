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
