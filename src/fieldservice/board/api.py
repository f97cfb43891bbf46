"""HTTP API of the board app (under /api/v1/)."""

from ninja import Router

router = Router(tags=["board"])
