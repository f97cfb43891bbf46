from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaintenanceConfig(AppConfig):
    """Proactive service (主动服务): maintenance plans, inspections, campaigns and recalls, customer care."""

    name = "fieldservice.maintenance"
    label = "maintenance"
    verbose_name = _("Proactive service")

    def ready(self):
        self.register_care()
        self.register_campaigns()
        self.register_inspections()

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
        panels.register("field.today", phone_today_panel)
        panels.register("field.order", phone_order_panel)
