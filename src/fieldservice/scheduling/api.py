"""HTTP API of the scheduling app (under /api/v1/)."""

from ninja import Router

router = Router(tags=["scheduling"])
