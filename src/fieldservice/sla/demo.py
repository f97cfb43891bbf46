"""Demo data of the SLA engine. The calendars, policies and escalation rules come with the
migrations and the clocks with the demo's orders; this runs the periodic check once over the
demo history, so breaches and escalations show as they would in a running system."""

from fieldservice.sla.services import check_clocks


def seed(*, rng, now) -> dict:
    return check_clocks(now=now)
