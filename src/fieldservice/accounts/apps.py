from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fieldservice.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from fieldservice.accounts.choices import ACTION_LABELS
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)
