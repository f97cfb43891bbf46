"""Extension points of dispatch, for the apps above it (the grab pool).

An app that holds orders besides dispatch, or carries out a rule's action other than assigning,
registers here from its `ready()`; dispatch calls the hooks inside its own transaction, so a hook
that raises undoes the whole step. dispatch never imports those apps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

from fieldservice.accounts.models import User
from fieldservice.core.db import any_of
from fieldservice.dispatch.models import DispatchRule
from fieldservice.workorders.models import WorkOrder

_holders: list[Callable[[object], set[int]]] = []
_released: list[Callable[[WorkOrder, User | None], object]] = []
_rule_actions: dict[str, Callable[[WorkOrder, DispatchRule], object]] = {}


def on_holding(check: Callable[[object], set[int]]) -> None:
    """`check(order_ids)` returns the ids of those orders its app holds (an open pool offer): the
    rules leave them alone, as they leave an order that has a lead. `order_ids` is a value for
    `__in` (`core.db.any_of`), built once for every check."""
    if check not in _holders:
        _holders.append(check)


def on_released(hook: Callable[[WorkOrder, User | None], object]) -> None:
    """`hook(order, actor=...)` runs when an order gets its lead or is cancelled, in that transaction:
    whatever else held the order lets it go at once (the pool withdraws its offer)."""
    if hook not in _released:
        _released.append(hook)


def on_rule_action(action: str, perform: Callable[[WorkOrder, DispatchRule], object]) -> None:
    """`perform(order, rule)` carries out the matching rule's `action` (a `RuleAction` other than
    assigning) on an order waiting for dispatch; it raises ValidationError or DomainError to refuse."""
    _rule_actions[action] = perform


def held(order_ids: Iterable[int]) -> set[int]:
    order_ids = any_of(order_ids)
    found: set[int] = set()
    for check in _holders:
        found |= check(order_ids)
    return found


def released(order: WorkOrder, actor: User | None) -> None:
    for hook in _released:
        hook(order, actor=actor)


def perform_rule_action(order: WorkOrder, rule: DispatchRule) -> None:
    perform = _rule_actions.get(rule.action)
    if perform is None:
        raise ImproperlyConfigured(f"No installed app carries out the dispatch rule action {rule.action!r}.")
    perform(order, rule)
