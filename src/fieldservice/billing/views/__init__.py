"""Pages of billing, one module per topic."""
