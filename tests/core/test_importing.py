"""core.importing's registry: the apps that own the rows register what can be imported."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from fieldservice.core import importing


def test_the_owning_apps_register_their_kinds_in_the_order_the_page_offers_them():
    assert [kind for kind, _label in importing.kind_choices()] == ["customers", "sites", "opening_stock", "equipment"]
    assert importing.find_importer("parts") is None


def test_a_second_importer_for_a_registered_kind_is_refused():
    customers = importing.find_importer("customers")
    twin = importing.Importer(
        kind="customers", label="Customers", columns=customers.columns, handler=customers.handler, summary_columns=()
    )
    with pytest.raises(ImproperlyConfigured):
        importing.register_importer(twin)
    assert importing.find_importer("customers") is customers
    importing.register_importer(customers)  # the same importer again (ready() twice) is harmless
