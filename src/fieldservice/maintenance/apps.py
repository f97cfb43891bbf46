from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Proactive service (主动服务): maintenance plans, inspections, campaigns and recalls, customer care."""

    name = "fieldservice.maintenance"
    label = "maintenance"
    verbose_name = _("Proactive service")

    def ready(self):
        self.register_plans()

    @staticmethod
    def register_plans():
        """Maintenance plans: generation and expiry warnings are periodic checks; the plans' parts
        are inventory's maintenance demand; the machine page shows its readings and plans."""
        from fieldservice.core import panels, periodic
        from fieldservice.inventory import hooks as inventory_hooks
        from fieldservice.maintenance.services.plans import maintenance_demand
        from fieldservice.maintenance.views.plans import machine_panel, public_panel

        periodic.register("maintenance.generate", "fieldservice.maintenance.tasks.generate_maintenance", 3600)
        periodic.register("maintenance.plan_expiry", "fieldservice.maintenance.tasks.warn_expiring_plans", 3600 * 6)
        inventory_hooks.register_demand_source(inventory_hooks.MAINTENANCE, maintenance_demand)
        panels.register("assets.equipment", machine_panel)
        panels.register("assets.public_equipment", public_panel)
