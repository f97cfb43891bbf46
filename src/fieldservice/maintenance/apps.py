from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Proactive service (主动服务): maintenance plans, inspections, campaigns and recalls, customer care."""

    name = "fieldservice.maintenance"
    label = "maintenance"
    verbose_name = _("Proactive service")

    def ready(self):
        pass
