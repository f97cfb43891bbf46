"""HTTP API of billing (under /api/v1/billing/): one router per topic, joined here."""

from ninja import Router

from fieldservice.billing.api import settlement

router = Router(tags=["billing"])
router.add_router("", settlement.router)
