from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "fieldservice.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from fieldservice.billing.choices import ACTION_LABELS
        from fieldservice.billing.services.fees import price_completed
        from fieldservice.billing.views.fees import field_panel, order_panel
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.workorders import hooks

        register_action_labels(self.label, ACTION_LABELS)
        # A completed order is priced in the lifecycle's transaction.
        hooks.on_moved(price_completed)
        panels.register("workorders.order", order_panel)
        panels.register("field.order", field_panel)
