"""The columns of the work order list: its page and its Excel export.

Workorders knows the order itself; who does the work (dispatch) and how the SLA went (sla) belong
to apps above it, which add their columns here from their AppConfig.ready(), so this app imports
neither. A column's `prepare` loads what it needs for the whole export in a few queries."""

from collections.abc import Callable
from dataclasses import replace

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy

from fieldservice.core.listing import Column
from fieldservice.workorders.forms import category_name

ORDER_COLUMNS = [
    Column(
        gettext_lazy("Work order number"),
        lambda o: o.number,
        heading=gettext_lazy("Work order"),
        link=lambda o: reverse("workorders:order_detail", args=[o.pk]),
    ),
    Column(gettext_lazy("Created"), lambda o: o.created_at, date="Y-m-d H:i"),
    Column(
        gettext_lazy("Status"),
        lambda o: o.get_status_display(),
        cell="{% load workorders_tags %}{% order_status row %}",
    ),
    Column(gettext_lazy("Priority"), lambda o: o.get_priority_display()),
    Column(gettext_lazy("Service type"), lambda o: o.get_service_type_display()),
    Column(gettext_lazy("Customer"), lambda o: o.customer.name),
    Column(gettext_lazy("Site"), lambda o: o.site.name if o.site else "", default="—"),
    Column(
        gettext_lazy("Equipment"),
        lambda o: o.equipment.serial_number if o.equipment else "",
        cell="{% if row.equipment %}{{ row.equipment.product_model.code }} #{{ row.equipment.serial_number }}"
        "{% else %}—{% endif %}",
    ),
    Column(
        gettext_lazy("Fault category"),
        lambda o: category_name(o.fault_category) if o.fault_category else "",
        page=False,
    ),
    Column(gettext_lazy("Service request"), lambda o: o.request.number, page=False),
    Column(gettext_lazy("Labour hours"), lambda o: o.labour_hours, page=False),
    Column(gettext_lazy("Completed"), lambda o: o.completed_at, page=False),
    Column(gettext_lazy("Closed"), lambda o: o.closed_at, page=False),
]

_registered: list[tuple[Column, Callable[[QuerySet], QuerySet] | None]] = []


def register_order_column(column: Column, *, prepare: Callable[[QuerySet], QuerySet] | None = None) -> None:
    """Add a column (after the order's own) to the export; `prepare` adds what the column reads
    to the queryset (a prefetch or an annotation). The page's table keeps its own columns."""
    if all(column.label != known.label for known, _prepare in _registered):
        _registered.append((replace(column, page=False), prepare))


def order_columns() -> list[Column]:
    return [*ORDER_COLUMNS, *(column for column, _prepare in _registered)]


def prepare_orders(orders: QuerySet) -> QuerySet:
    orders = orders.select_related("fault_category")
    for _column, prepare in _registered:
        if prepare is not None:
            orders = prepare(orders)
    return orders
