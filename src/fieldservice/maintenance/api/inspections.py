"""HTTP API of inspections."""

from ninja import Router

router = Router()
