"""Models of proactive service, one module per topic."""

from fieldservice.maintenance.models.campaigns import Campaign, CampaignPart, CampaignTarget  # noqa: F401
