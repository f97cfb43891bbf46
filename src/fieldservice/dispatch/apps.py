from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "fieldservice.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch")

    def ready(self):
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.dispatch.assignments.api import AssignmentOut, order_assignments
        from fieldservice.dispatch.assignments.exports import ENGINEER, with_lead
        from fieldservice.dispatch.assignments.services import end_assignments_of_cancelled
        from fieldservice.dispatch.assignments.views import order_panel
        from fieldservice.dispatch.choices import ACTION_LABELS
        from fieldservice.workorders import hooks
        from fieldservice.workorders.exports import register_order_column

        register_action_labels(self.label, ACTION_LABELS)
        register_order_column(ENGINEER, prepare=with_lead)
        hooks.on_moved(end_assignments_of_cancelled)
        panels.register("workorders.order", order_panel)
        hooks.on_order_detail("assignments", list[AssignmentOut], order_assignments)

        from fieldservice.core.outbox import register_batch_consumer
        from fieldservice.dispatch.rules.consumers import consume_batch

        register_batch_consumer(consume_batch)
