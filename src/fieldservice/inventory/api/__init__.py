"""HTTP API of inventory (under /api/v1/): one router per topic, joined here."""

from ninja import Router

from fieldservice.inventory.api import catalogue, counts, plans

router = Router()
router.add_router("", catalogue.router)
router.add_router("", counts.router)
router.add_router("", plans.router)
