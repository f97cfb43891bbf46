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
        self.register_job_steps()

    @staticmethod
    def register_job_steps():
        """A new order gets the steps of its most specific job template, in its creation's
        transaction; the dispatcher sees and changes them on the work order page."""
        from fieldservice.core import panels
        from fieldservice.field.services.steps import attach_job_steps
        from fieldservice.field.views_steps import order_steps_panel
        from fieldservice.workorders import hooks

        hooks.on_created_many(attach_job_steps)
        panels.register("workorders.order", order_steps_panel)
