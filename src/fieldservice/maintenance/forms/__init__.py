"""Forms of proactive service, one module per topic."""
