"""HTTP API of connected machines (under /api/v1/iot/): one router per topic, joined here."""

from ninja import Router

from fieldservice.iot.api import devices, ingest, machines, rules

router = Router(tags=["iot"])
for topic in (ingest, devices, rules, machines):
    router.add_router("", topic.router)
