"""HTTP API of connected machines (under /api/v1/iot/): one router per topic, joined here."""

from ninja import Router

router = Router(tags=["iot"])
for topic in ():
    router.add_router("", topic.router)
