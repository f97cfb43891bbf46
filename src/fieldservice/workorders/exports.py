"""The columns of the work order list's Excel export.

Workorders knows the order itself; who does the work (dispatch) and how the SLA went (sla) belong
to apps above it, which add their columns here from their AppConfig.ready(), so this app imports
neither. A column's `prepare` loads what it needs for the whole export in a few queries."""

from collections.abc import Callable

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from fieldservice.core.listing import Column
from fieldservice.workorders.forms import category_name

ORDER_COLUMNS = [
    Column(gettext_lazy("Work order number"), lambda o: o.number),
    Column(gettext_lazy("Created"), lambda o: o.created_at),
    Column(gettext_lazy("Status"), lambda o: o.get_status_display()),
    Column(gettext_lazy("Priority"), lambda o: o.get_priority_display()),
    Column(gettext_lazy("Service type"), lambda o: o.get_service_type_display()),
    Column(gettext_lazy("Customer"), lambda o: o.customer.name),
    Column(gettext_lazy("Site"), lambda o: o.site.name if o.site else ""),
    Column(gettext_lazy("Equipment"), lambda o: o.equipment.serial_number if o.equipment else ""),
    Column(gettext_lazy("Fault category"), lambda o: category_name(o.fault_category) if o.fault_category else ""),
    Column(gettext_lazy("Service request"), lambda o: o.request.number),
    Column(gettext_lazy("Labour hours"), lambda o: o.labour_hours),
    Column(gettext_lazy("Completed"), lambda o: o.completed_at),
    Column(gettext_lazy("Closed"), lambda o: o.closed_at),
]

_registered: list[tuple[Column, Callable[[QuerySet], QuerySet] | None]] = []


def register_order_column(column: Column, *, prepare: Callable[[QuerySet], QuerySet] | None = None) -> None:
    """Add a column (after the order's own) to the export; `prepare` adds what the column reads
    to the queryset (a prefetch or an annotation)."""
    if all(column.label != known.label for known, _prepare in _registered):
        _registered.append((column, prepare))


def order_columns() -> list[Column]:
    return [*ORDER_COLUMNS, *(column for column, _prepare in _registered)]


def prepare_orders(orders: QuerySet) -> QuerySet:
    orders = orders.select_related("fault_category")
    for _column, prepare in _registered:
        if prepare is not None:
            orders = prepare(orders)
    return orders
