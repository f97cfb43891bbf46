from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "fieldservice.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from fieldservice.accounts import hooks
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.core.importing import register_importer
        from fieldservice.inventory.choices import ACTION_LABELS
        from fieldservice.inventory.importers import OPENING_STOCK
        from fieldservice.inventory.services import open_van
        from fieldservice.inventory.views.transfers import order_requisitions

        register_action_labels(self.label, ACTION_LABELS)
        # Every engineer holds stock of his own from the day his profile exists.
        hooks.on_engineer_profile_created(open_van)
        register_importer(OPENING_STOCK)
        # The dispatcher sees, on the order's page, the parts asked for it (urgent ones flagged).
        panels.register("workorders.order", order_requisitions)
        panels.register("dispatch.order", order_requisitions)
