"""HTTP API of the planning app (under /api/v1/)."""

from ninja import Router

router = Router(tags=["planning"])
