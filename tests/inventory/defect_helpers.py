"""Defective parts in the states the tests need, made through the services."""

from fieldservice.inventory import services
from fieldservice.inventory.choices import TransferKind
from tests import factories


def owed(engineer, part=None, *, quantity=1, serial="", order_number="WO-1", order_id=1, **fields):
    """A part the engineer took off a machine (owed, in his van as defective stock)."""
    part = part or factories.part()
    return services.record_removed_part(
        actor=engineer,
        van=services.van_for(engineer),
        part=part,
        quantity=quantity,
        serial=serial,
        work_order_id=order_id,
        work_order_number=order_number,
        equipment_id=fields.pop("equipment_id", 7),
        equipment_label=fields.pop("equipment_label", "SN-7"),
        fault_category=fields.pop("fault_category", "Overheating"),
    )


def returned(engineer, keeper, store, part=None, **fields):
    """A defective part the engineer brought back and `store` received."""
    defect = owed(engineer, part, **fields)
    van = services.van_for(engineer)
    transfer = services.request_transfer(
        actor=engineer, kind=TransferKind.RETURN, source=van, destination=store, defects=[defect]
    )
    services.ship_transfer(transfer, actor=engineer)
    services.receive_transfer(transfer, actor=keeper)
    defect.refresh_from_db()
    return defect
