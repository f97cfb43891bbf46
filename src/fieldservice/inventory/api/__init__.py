"""HTTP API of inventory (under /api/v1/): one router per topic, joined here."""

from ninja import Router

from fieldservice.inventory.api import catalogue, counts, factory, plans, stock, transfers

router = Router()
for topic in (catalogue, stock, transfers, counts, plans, factory):
    router.add_router("", topic.router)
