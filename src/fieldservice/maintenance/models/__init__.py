"""Models of proactive service, one module per topic."""

from fieldservice.maintenance.models.inspections import Finding, Inspection, InspectionItem, InspectionMachine  # noqa: F401
