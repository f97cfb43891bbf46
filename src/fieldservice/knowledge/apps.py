from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "fieldservice.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.knowledge.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)
