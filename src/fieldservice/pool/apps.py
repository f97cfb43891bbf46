from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "fieldservice.pool"
    label = "pool"
    verbose_name = _("Grab pool")

    def ready(self):
        from fieldservice.core.events import register_action_labels
        from fieldservice.pool.choices import ACTION_LABELS

        register_action_labels(self.label, ACTION_LABELS)

        from fieldservice.dispatch import hooks as dispatch_hooks
        from fieldservice.dispatch.choices import RuleAction
        from fieldservice.pool import selectors, services

        dispatch_hooks.on_holding(selectors.orders_in_pool)
        dispatch_hooks.on_released(services.close_offers_of)
        dispatch_hooks.on_rule_action(RuleAction.POOL, services.publish_by_rule)

        from fieldservice.core import periodic

        periodic.register("pool.expire", "fieldservice.pool.tasks.expire_offers", 60)
