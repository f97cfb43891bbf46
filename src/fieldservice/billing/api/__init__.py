"""HTTP API of billing (under /api/v1/billing/): one router per topic, joined here."""

from ninja import Router

router = Router(tags=["billing"])
