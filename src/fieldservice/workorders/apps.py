from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkOrdersConfig(AppConfig):
    name = "fieldservice.workorders"
    label = "workorders"
    verbose_name = _("Work orders")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.workorders.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core import panels
        from fieldservice.workorders.views import contract_orders_panel

        panels.register("contracts.contract", contract_orders_panel)

        from fieldservice.core import periodic

        periodic.register("workorders.fetch_mail", "fieldservice.workorders.tasks.fetch_mail", 120)
