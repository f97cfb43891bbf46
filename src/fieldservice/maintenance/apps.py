from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Proactive service (主动服务): maintenance plans, inspections, campaigns and recalls, customer care."""

    name = "fieldservice.maintenance"
    label = "maintenance"
    verbose_name = _("Proactive service")

    def ready(self):
        self.register_plans()
        self.register_care()
        self.register_campaigns()
        self.register_inspections()

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

    @staticmethod
    def register_care():
        """Customer care: its log's words, the periodic check that runs active plans on their start
        date, and the link to an engineer's care tasks on his phone's today page."""
        from fieldservice.core import panels, periodic
        from fieldservice.core.events import register_action_labels
        from fieldservice.maintenance.models.care import CARE_ACTION_LABELS
        from fieldservice.maintenance.views.care import phone_tasks_link

        register_action_labels("maintenance", CARE_ACTION_LABELS)
        periodic.register("maintenance.care_plans", "fieldservice.maintenance.tasks_care.run_due_care_plans", 3600)
        panels.register("field.today", phone_tasks_link)

    @staticmethod
    def register_campaigns():
        """Campaigns: a machine is done when its order is completed or closed (in the lifecycle's
        transaction, set-based); the words of their log; the button that starts one from a
        knowledge article."""
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.maintenance.models.campaigns import CAMPAIGN_ACTION_LABELS
        from fieldservice.maintenance.services.campaigns import follow_orders
        from fieldservice.maintenance.views.campaigns import knowledge_article_panel, public_equipment_panel
        from fieldservice.workorders import hooks

        hooks.on_moved(follow_orders)
        register_action_labels("maintenance", CAMPAIGN_ACTION_LABELS)
        panels.register("knowledge.article", knowledge_article_panel)
        panels.register("assets.public_equipment", public_equipment_panel)

    def register_inspections(self):
        """Inspections: their log's words, and the links from the engineer's phone to them."""
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.maintenance.services.inspections import ACTION_LABELS
        from fieldservice.maintenance.views.inspections import phone_order_panel, phone_today_panel

        register_action_labels(f"{self.label}.inspections", ACTION_LABELS)
        # A finding's fields, as the machine's history (not a Finding's own log) names them.

        from fieldservice.core.events import register_change_labels
        from fieldservice.maintenance.models import Finding

        fields = ("severity", "disposition", "action_taken", "recommendation", "repair_order")
        register_change_labels({name: Finding._meta.get_field(name).verbose_name for name in fields})
        register_change_labels({"work_orders": _("work orders")})
        panels.register("field.today", phone_today_panel)
        panels.register("field.order", phone_order_panel)
