"""Scoped queries of proactive service, one module per topic."""
