"""What the customer sees of a work order's progress: the steps so far and the service log
told in plain sentences. Only the moves are told; notes (rejection reasons, internal remarks)
and facts recorded for the desk never are."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import HoldReason, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import service_log

S = WorkOrderStatus
STEPS = [S.NEW, S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE, S.COMPLETED, S.CLOSED]
STEP_LABELS = {
    S.NEW: gettext_lazy("Request received"),
    S.DISPATCHED: gettext_lazy("Engineer assigned"),
    S.ACCEPTED: gettext_lazy("Accepted"),
    S.TRAVELLING: gettext_lazy("On the way"),
    S.ON_SITE: gettext_lazy("On site"),
    S.COMPLETED: gettext_lazy("Completed"),
    S.CLOSED: gettext_lazy("Closed"),
}
# How a status reads to the customer; a declined offer is only "we are finding an engineer".
CUSTOMER_STATUS = {
    **STEP_LABELS,
    S.NEW: gettext_lazy("Received, finding an engineer"),
    S.REJECTED: gettext_lazy("Received, finding an engineer"),
    S.ON_HOLD: gettext_lazy("Paused"),
    S.CANCELLED: gettext_lazy("Cancelled"),
}


def _hold_sentence(entry) -> str:
    reason = (entry.payload or {}).get("hold_reason")
    if reason == HoldReason.WAITING_PARTS:
        return _("Work is paused while we wait for parts.")
    if reason == HoldReason.WAITING_CUSTOMER:
        return _("Work is paused until we hear from you.")
    return _("Work is paused for now.")


SENTENCES = {
    "created": lambda entry: (
        _("We opened work order %(number)s for your request.") % {"number": entry.work_order.number}
    ),
    "dispatch": lambda entry: _("The job was given to an engineer."),
    "accept": lambda entry: _("The engineer accepted the job."),
    # A declined or withdrawn offer reads the same: the reason is internal.
    "reject": lambda entry: _("We are finding another engineer for the job."),
    "revoke": lambda entry: _("We are finding another engineer for the job."),
    "start_travel": lambda entry: _("The engineer is on the way."),
    "check_in": lambda entry: _("The engineer arrived on site."),
    "complete": lambda entry: _("The work is done."),
    "close": lambda entry: _("We checked the service report and closed the work order."),
    "hold": _hold_sentence,
    "resume": lambda entry: _("Work has resumed."),
    "cancel": lambda entry: _("The work order was cancelled."),
    "evaluated": lambda entry: _("You rated our service. Thank you!"),
}


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    current: bool


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str


def steps(order: WorkOrder) -> list[Step]:
    """The progress bar. A paused order shows where it was; a cancelled order has none."""
    status = order.status
    if status == S.CANCELLED:
        return []
    if status == S.ON_HOLD:
        status = order.status_before_hold or S.NEW
    if status == S.REJECTED:
        status = S.NEW
    position = STEPS.index(status) if status in STEPS else 0
    return [
        Step(label=str(STEP_LABELS[step]), done=index <= position, current=index == position)
        for index, step in enumerate(STEPS)
    ]


def progress_percent(order: WorkOrder) -> int:
    done = [step for step in steps(order) if step.done]
    return round(100 * (len(done) - 1) / (len(STEPS) - 1)) if done else 0


def timeline(order: WorkOrder) -> list[TimelineEntry]:
    entries = []
    for entry in service_log(order):
        sentence = SENTENCES.get(entry.action)
        if sentence is not None:
            entries.append(TimelineEntry(at=entry.at, text=sentence(entry)))
    return entries


def lead_engineer_name(order: WorkOrder) -> str:
    """The accepted lead engineer's name; never their username, phone or company."""
    lead = (
        Assignment.objects.filter(
            work_order=order,
            role=AssignmentRole.LEAD,
            status=AssignmentStatus.ACCEPTED,
            engineer__isnull=False,
        )
        .select_related("engineer")
        .order_by("-assigned_at", "-pk")
        .first()
    )
    if lead is None:
        return ""
    engineer = lead.engineer
    return engineer.display_name or engineer.get_full_name() or _("Our engineer")
