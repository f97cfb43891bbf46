"""Fixtures of the maintenance tests, one import line per topic."""

from tests.maintenance.inspection_data import world  # noqa: F401
