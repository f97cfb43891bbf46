"""SLA clocks. (First cut: the clocks arrive with the SLA engine.)"""

from fieldservice.workorders.models import WorkOrder


def start_clocks(order: WorkOrder) -> None:
    """Start the order's clocks from its SLA policy's targets for its priority."""


def on_transition(order: WorkOrder, verb: str, *, at, hold_reason: str = "") -> None:
    """Stop, pause or resume the order's clocks after a move."""
