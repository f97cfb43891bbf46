"""Business rules of inventory, by topic: the catalogue, warehouses, the ledger (the one writer of
stock), receipts. Callers write `services.receive_stock(...)` whichever module holds it."""

from fieldservice.inventory.services.catalogue import PART_FIELDS, create_part, update_part
from fieldservice.inventory.services.counts import cancel_count, open_count, post_count, record_counts
from fieldservice.inventory.services.defects import cancel_removed_part, record_removed_part
from fieldservice.inventory.services.factory import (
    cancel_factory_return,
    create_factory_return,
    record_finding,
    ship_factory_return,
)
from fieldservice.inventory.services.ledger import Document, Line, drift, post, quantity_of, transit_of
from fieldservice.inventory.services.plans import Suggestion, apply_levels, request_refills, suggest_levels
from fieldservice.inventory.services.receipts import receive_stock, scrap_stock, serials_of
from fieldservice.inventory.services.transfers import (
    approve_transfer,
    cancel_transfer,
    may_receive,
    may_request,
    may_ship,
    receive_transfer,
    reject_transfer,
    request_transfer,
    ship_transfer,
)
from fieldservice.inventory.services.warehouses import (
    create_bin,
    create_warehouse,
    open_van,
    set_keepers,
    update_warehouse,
    van_for,
)

__all__ = [
    "cancel_factory_return",
    "cancel_removed_part",
    "create_factory_return",
    "record_finding",
    "record_removed_part",
    "ship_factory_return",
    "Suggestion",
    "apply_levels",
    "cancel_count",
    "open_count",
    "post_count",
    "record_counts",
    "request_refills",
    "suggest_levels",
    "PART_FIELDS",
    "approve_transfer",
    "cancel_transfer",
    "may_receive",
    "may_request",
    "may_ship",
    "receive_transfer",
    "reject_transfer",
    "request_transfer",
    "ship_transfer",
    "approve_transfer",
    "cancel_transfer",
    "may_receive",
    "may_request",
    "may_ship",
    "receive_transfer",
    "reject_transfer",
    "request_transfer",
    "ship_transfer",
    "Document",
    "Line",
    "create_bin",
    "create_part",
    "create_warehouse",
    "drift",
    "open_van",
    "post",
    "quantity_of",
    "receive_stock",
    "scrap_stock",
    "serials_of",
    "set_keepers",
    "transit_of",
    "update_part",
    "update_warehouse",
    "van_for",
]
