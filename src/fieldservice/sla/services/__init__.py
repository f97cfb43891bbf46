"""SLA services: the clocks of each work order (`clocks`), the periodic check that escalates and
marks breaches (`check`), and the administrator's calendars, policies and rules (`setup`).

`start_clocks` and `on_transition` are called by the work-order services inside their transaction.
"""

from fieldservice.sla.services.check import check_clocks
from fieldservice.sla.services.clocks import on_transition, start_clocks
from fieldservice.sla.services.setup import (
    add_holiday,
    create_calendar,
    create_policy,
    create_rule,
    delete_holiday,
    delete_rule,
    load_holidays,
    load_shipped_holidays,
    read_holiday_file,
    shipped_holiday_years,
    update_calendar,
    update_policy,
    update_rule,
)

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
