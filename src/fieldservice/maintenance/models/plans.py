"""Models of plans."""
