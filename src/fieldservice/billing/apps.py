from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "fieldservice.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from fieldservice.billing.choices import ACTION_LABELS
        from fieldservice.billing.views.charges import order_bill_panel
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)
        # The order's bill (or the button that draws it up) on the work order page.
        panels.register("workorders.order", order_bill_panel)
