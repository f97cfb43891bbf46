from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "fieldservice.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.sla.choices import ACTION_LABELS
        from fieldservice.sla.exports import SLA_RESULT, with_clocks
        from fieldservice.sla.services import clocks
        from fieldservice.workorders import hooks
        from fieldservice.workorders.exports import register_order_column

        register_action_labels(self.label, ACTION_LABELS)
        register_order_column(SLA_RESULT, prepare=with_clocks)
        hooks.on_created_many(clocks.start_clocks_many)
        hooks.on_moved(clocks.after_moves)

        from fieldservice.core import periodic

        periodic.register("sla.check", "fieldservice.sla.tasks.check_sla", 60)
