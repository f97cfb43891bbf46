from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Proactive service (主动服务): maintenance plans, inspections, campaigns and recalls, customer care."""

    name = "fieldservice.maintenance"
    label = "maintenance"
    verbose_name = _("Proactive service")

    def ready(self):
        self.register_inspections()

    def register_inspections(self):
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.maintenance.services.inspections import ACTION_LABELS
        from fieldservice.maintenance.views.inspections import phone_order_panel, phone_today_panel

        register_action_labels(f"{self.label}.inspections", ACTION_LABELS)
        panels.register("field.today", phone_today_panel)
        panels.register("field.order", phone_order_panel)
