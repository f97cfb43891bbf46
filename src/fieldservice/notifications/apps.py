from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "fieldservice.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.notifications.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.notifications.channels import active_sms_gateway
        from fieldservice.workorders.services.intake import register_phone_code_channel

        register_phone_code_channel(lambda: active_sms_gateway() is not None)

        from fieldservice.core.destinations import register_kind
        from fieldservice.notifications.services import destination_kind

        register_kind(destination_kind())

        from fieldservice.core.outbox import register_consumer
        from fieldservice.notifications.consumers import consume

        register_consumer(consume)
