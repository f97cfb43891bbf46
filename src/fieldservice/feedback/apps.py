from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "fieldservice.feedback"
    label = "feedback"
    verbose_name = _("Feedback")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.feedback.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)
