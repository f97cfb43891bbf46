from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "fieldservice.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from fieldservice.billing.choices import ACTION_LABELS
        from fieldservice.core import periodic
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)
        periodic.register("billing.statements", "fieldservice.billing.tasks.generate_previous_month", 3600)
