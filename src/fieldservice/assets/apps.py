from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "fieldservice.assets"
    label = "assets"
    verbose_name = _("Installed base")

    def ready(self):
        from fieldservice.assets.choices import ACTION_LABELS
        from fieldservice.assets.demand import installed_parts
        from fieldservice.assets.importers import EQUIPMENT
        from fieldservice.assets.views import customer_equipment_panel
        from fieldservice.core import panels
        from fieldservice.core.events import register_action_labels
        from fieldservice.core.importing import register_importer
        from fieldservice.inventory import hooks as inventory_hooks

        register_action_labels(self.label, ACTION_LABELS)
        register_importer(EQUIPMENT)
        panels.register("customers.customer", customer_equipment_panel)
        # Parts plans size a warehouse's stock by the machines installed in its area.
        inventory_hooks.register_demand_source(inventory_hooks.INSTALLED_BASE, installed_parts)
