"""Response schemas name related objects by the relation (`customer`), not the column (`customer_id`):
fields read from `*_id` attributes through validation aliases must keep their public names."""

import pytest

from fieldservice.api import api


@pytest.mark.parametrize(
    ("schema", "fields"),
    [
        ("WorkOrderOut", {"customer", "site", "equipment", "fault_category"}),
        ("EquipmentOut", {"product_model", "customer", "site", "parent"}),
        ("SiteOut", {"customer", "contact"}),
    ],
)
def test_related_objects_keep_their_public_names(schema, fields):
    properties = api.get_openapi_schema()["components"]["schemas"][schema]["properties"]
    assert fields <= set(properties)
    assert not {f"{name}_id" for name in fields} & set(properties)
