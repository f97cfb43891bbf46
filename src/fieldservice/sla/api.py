"""HTTP API of the SLA engine (under /api/v1/): an order's clocks and the overdue list."""

from datetime import datetime

from django.utils import timezone
from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination
from fieldservice.core.errors import require
from fieldservice.sla import selectors
from fieldservice.sla.choices import OverdueState, TargetKind
from fieldservice.sla.permissions import may_watch_overdue
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["sla"])


class ClockOut(Schema):
    target: str
    target_label: str
    target_minutes: int
    started_at: datetime
    due_at: datetime
    paused_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    state: str
    state_label: str
    business_minutes_left: float | None

    @staticmethod
    def _from_row(row: selectors.ClockRow) -> dict:
        clock = row.clock
        return {
            "target": clock.kind,
            "target_label": row.target_label,
            "target_minutes": clock.target_minutes,
            "started_at": clock.started_at,
            "due_at": clock.due_at,
            "paused_at": clock.paused_at,
            "met_at": clock.met_at,
            "breached_at": clock.breached_at,
            "stopped_at": clock.stopped_at,
            "state": row.state,
            "state_label": row.state_label,
            "business_minutes_left": None if row.minutes_left is None else round(row.minutes_left, 1),
        }


class OverdueOut(ClockOut):
    work_order: int
    number: str
    customer: str
    priority: str


def _overdue_row(row: selectors.ClockRow) -> dict:
    order = row.clock.work_order
    return ClockOut._from_row(row) | {
        "work_order": order.pk,
        "number": order.number or "",
        "customer": order.customer.name,
        "priority": order.priority,
    }


@router.get("/work-orders/{int:order_id}/sla", response=list[ClockOut], summary="The SLA clocks of a work order")
def order_clocks(request, order_id: Id):
    """Each target of the order with its due time, state and business minutes left (negative:
    overdue). Visible to whoever may see the order."""
    order = get_work_order_for(request.user, order_id)
    return [ClockOut._from_row(row) for row in selectors.clock_rows(selectors.clocks_for(order))]


class _Rows:
    """A lazily converted page: the paginator slices the queryset, then rows are worked out."""

    def __init__(self, clocks, now):
        self.clocks = clocks
        self.now = now

    def __len__(self):
        return self.clocks.count()

    def __getitem__(self, index):
        return [_overdue_row(row) for row in selectors.clock_rows(self.clocks[index], self.now)]


@router.get("/sla/overdue", response=list[OverdueOut], summary="Running clocks at risk (80 % used) or breached")
@paginate(PageNumberPagination, page_size=50)
def overdue(request, target: TargetKind | None = None, state: OverdueState | None = None, q: str = ""):
    require(may_watch_overdue(request.user))
    now = timezone.now()
    clocks = selectors.overdue_clocks_for(request.user, target=target or "", state=state or "", query=q, now=now)
    return _Rows(clocks, now)
