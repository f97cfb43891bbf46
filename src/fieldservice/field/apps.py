from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "fieldservice.field"
    label = "field"
    verbose_name = _("Field work")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.field.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core.outbox import register_consumer
        from fieldservice.field.consumers import consume

        register_consumer(consume)
