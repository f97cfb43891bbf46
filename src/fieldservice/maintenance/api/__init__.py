"""HTTP API of proactive service (under /api/v1/maintenance/): one router per topic, joined here."""

from ninja import Router

from fieldservice.maintenance.api import campaigns, care, inspections, plans

router = Router(tags=["maintenance"])
for topic in (plans, inspections, campaigns, care):
    router.add_router("", topic.router)
