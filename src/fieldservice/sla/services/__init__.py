"""SLA services: the clocks of each work order (`clocks`), the periodic check that escalates and
marks breaches (`check`), and the administrator's settings: business calendars (`calendars`), SLA
policies (`policies`) and escalation rules (`escalation`).

`start_clocks` and `on_transition` are called by the work-order services inside their transaction.
"""

from fieldservice.sla.services.calendars import (
    add_holiday,
    create_calendar,
    delete_holiday,
    load_holidays,
    load_shipped_holidays,
    read_holiday_file,
    shipped_holiday_years,
    update_calendar,
)
from fieldservice.sla.services.check import check_clocks
from fieldservice.sla.services.clocks import on_transition, start_clocks
from fieldservice.sla.services.escalation import create_rule, delete_rule, update_rule
from fieldservice.sla.services.policies import create_policy, update_policy

__all__ = [
    "add_holiday",
    "check_clocks",
    "create_calendar",
    "create_policy",
    "create_rule",
    "delete_holiday",
    "delete_rule",
    "load_holidays",
    "load_shipped_holidays",
    "on_transition",
    "read_holiday_file",
    "shipped_holiday_years",
    "start_clocks",
    "update_calendar",
    "update_policy",
    "update_rule",
]
