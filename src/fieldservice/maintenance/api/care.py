"""HTTP API of care."""

from ninja import Router

router = Router()
