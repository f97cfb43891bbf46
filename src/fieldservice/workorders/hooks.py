"""Extension points of workorders, for the apps above it.

An app that must act when an order is created or moves (SLA clocks start and stop, a cancelled
order's assignments end) registers a hook here from its `ready()`; the lifecycle calls the hooks
inside its own transaction, after the order's row and its service log are written, so a hook that
raises undoes the whole move. An app that shows its rows of an order (its assignments) adds a
field to the order's API detail here, and a panel of the order's page through `core.panels`
(slot "workorders.order"). workorders never imports those apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.core.exceptions import AppRegistryNotReady

from fieldservice.accounts.models import User
from fieldservice.workorders.models import WorkOrder


@dataclass(frozen=True)
class Move:
    """One order moved by `transition`: its id, the state it left (`source`) and the state it
    reached. A batch carries ids only (a rule pass moves thousands); `order` reads the row the
    first time a hook asks for more than the id."""

    order_id: int
    verb: str
    source: str
    target: str
    actor: User | None
    note: str
    at: datetime
    hold_reason: str = ""
    loaded: WorkOrder | None = field(default=None, repr=False, compare=False)

    @property
    def order(self) -> WorkOrder:
        if self.loaded is None:
            object.__setattr__(self, "loaded", WorkOrder.objects.get(pk=self.order_id))
        return self.loaded


@dataclass(frozen=True)
class DetailField:
    """A field an app above workorders adds to the work order API's detail."""

    name: str
    annotation: object  # its type in the schema, e.g. list[AssignmentOut]
    resolve: Callable[[WorkOrder], object]


_created: list[Callable[[WorkOrder], object]] = []
_created_many: list[Callable[[list[WorkOrder]], object]] = []
_moved: list[Callable[[list[Move]], object]] = []
_detail_fields: list[DetailField] = []


def on_created(hook: Callable[[WorkOrder], object]) -> None:
    """`hook(order)` runs when a work order is created, in its transaction."""
    if hook not in _created:
        _created.append(hook)


def on_created_many(hook: Callable[[list[WorkOrder]], object]) -> None:
    """`hook(orders)` runs when work orders are created, in their transaction, with every order
    one call created (one from the desk, thousands from a maintenance run): a hook should write
    them with set-based statements. Prefer it to `on_created`, which runs once per order."""
    if hook not in _created_many:
        _created_many.append(hook)


def on_moved(hook: Callable[[list[Move]], object]) -> None:
    """`hook(moves)` runs after every transition, in its transaction, with the orders one call
    moved (one, or a rule pass's thousands: a hook should write them with set-based statements)."""
    if hook not in _moved:
        _moved.append(hook)


def created(order: WorkOrder) -> None:
    created_many([order])


def created_many(orders: list[WorkOrder]) -> None:
    """Run the hooks of newly created orders: the set-based ones once with them all, the
    per-order ones for each order."""
    if not orders:
        return
    for hook in _created_many:
        hook(orders)
    for hook in _created:
        for order in orders:
            hook(order)


def moved(moves: list[Move]) -> None:
    if moves:
        for hook in _moved:
            hook(moves)


def on_order_detail(name: str, annotation: object, resolve: Callable[[WorkOrder], object]) -> None:
    """The work order API's detail gets a field `name` of type `annotation`, its value
    `resolve(order)`. Register from `ready()`: the schema is built once, when the API is loaded."""
    if all(field.name != name for field in _detail_fields):
        _detail_fields.append(DetailField(name, annotation, resolve))


def order_detail_fields() -> list[DetailField]:
    if not apps.ready:
        # A field registered after the schema was built would be missing from it, silently.
        raise AppRegistryNotReady("The work order API was loaded before every app was ready.")
    return list(_detail_fields)
