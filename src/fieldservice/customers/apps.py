from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "fieldservice.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from fieldservice.core.importing import register_importer
        from fieldservice.customers.importers import CUSTOMERS, SITES

        register_importer(CUSTOMERS)
        register_importer(SITES)
