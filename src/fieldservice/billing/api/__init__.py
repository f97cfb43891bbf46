"""HTTP API of billing (under /api/v1/billing/): one router per topic, joined here."""

from ninja import Router

from fieldservice.billing.api import charges, fees, margins, quotations, settlement

router = Router(tags=["billing"])
for topic in (fees, quotations, charges, settlement, margins):
    router.add_router("", topic.router)
