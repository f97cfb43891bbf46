"""Models of proactive service, one module per topic."""

from fieldservice.maintenance.models.plans import (  # noqa: F401
    CalendarBase,
    DueReason,
    DueVisit,
    MaintenancePlan,
    PlanPart,
    PlanScope,
)
