from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "fieldservice.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from fieldservice.contracts.choices import ACTION_LABELS
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core import periodic

        periodic.register("contracts.expiry_reminders", "fieldservice.contracts.tasks.send_expiry_reminders", 3600)
