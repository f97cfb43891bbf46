"""HTTP API of inventory (under /api/v1/): one router per topic, joined here."""

from ninja import Router

from fieldservice.inventory.api import catalogue, factory

router = Router()
router.add_router("", catalogue.router)
router.add_router("", factory.router)
