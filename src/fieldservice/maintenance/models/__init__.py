"""Models of proactive service, one module per topic."""

from fieldservice.maintenance.models.campaigns import Campaign, CampaignPart, CampaignTarget  # noqa: F401
from fieldservice.maintenance.models.care import (  # noqa: F401
    CareMethod,
    CareOccasion,
    CareOutcome,
    CarePlan,
    CarePlanStatus,
    CareTouch,
    CareTouchStatus,
)
from fieldservice.maintenance.models.inspections import Finding, Inspection, InspectionItem, InspectionMachine  # noqa: F401
from fieldservice.maintenance.models.plans import (  # noqa: F401
    CalendarBase,
    DueReason,
    DueVisit,
    MaintenancePlan,
    PlanPart,
    PlanScope,
)
