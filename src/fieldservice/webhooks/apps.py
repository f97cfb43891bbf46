from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "fieldservice.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.webhooks.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core.destinations import register_kind
        from fieldservice.webhooks.services import destination_kind

        register_kind(destination_kind())

        from fieldservice.core.outbox import register_consumer
        from fieldservice.webhooks.consumers import consume

        register_consumer(consume)
