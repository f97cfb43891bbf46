"""The SLA column of the work order export (registered in apps.py): how the order's clocks went,
worst first, so one breached target shows however the others did."""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fieldservice.core.listing import Column
from fieldservice.sla.choices import ClockState
from fieldservice.sla.selectors import clock_state

# Worst first.
SEVERITY = [
    ClockState.BREACHED,
    ClockState.MET_LATE,
    ClockState.AT_RISK,
    ClockState.PAUSED,
    ClockState.RUNNING,
    ClockState.MET,
    ClockState.STOPPED,
]


def with_clocks(orders: QuerySet) -> QuerySet:
    return orders.prefetch_related("sla_clocks")


def sla_result(order) -> str:
    clocks = list(order.sla_clocks.all())
    if not clocks:
        return ""
    now = timezone.now()
    states = {clock_state(clock, now) for clock in clocks}
    worst = next(state for state in SEVERITY if state in states)
    return str(ClockState(worst).label)


SLA_RESULT = Column(gettext_lazy("SLA result"), sla_result)
