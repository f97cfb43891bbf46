from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "fieldservice.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from fieldservice.billing.choices import ACTION_LABELS
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core import periodic

        periodic.register("billing.expire_quotations", "fieldservice.billing.tasks.expire_quotations", 3600)

        from fieldservice.billing.views import quotations as quotation_views
        from fieldservice.core import panels

        panels.register("workorders.order", quotation_views.order_panel)
        panels.register("field.order", quotation_views.phone_panel)
