"""HTTP API of the pool app (under /api/v1/)."""

from ninja import Router

router = Router(tags=["pool"])
