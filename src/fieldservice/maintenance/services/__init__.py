"""Business rules of proactive service, one module per topic (plans, inspections, campaigns, care)."""
