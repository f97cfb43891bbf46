from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "fieldservice.scheduling"
    label = "scheduling"
    verbose_name = _("Appointments and calendars")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.scheduling.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.core.outbox import register_consumer
        from fieldservice.scheduling.consumers import consume

        register_consumer(consume)
