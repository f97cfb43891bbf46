"""What apps above inventory tell it (inventory imports none of them).

Demand sources feed the parts plans (`services/plans.py`): `fn(area_ids, part_ids)` returns
{part id: quantity} for the service areas given (None: everywhere) and the parts given (None: every
part). Two sources are known by name:

- `INSTALLED_BASE` ("installed_base"): the parts installed in the machines of those areas, machines
  × bill-of-materials quantity. `assets` registers it from its `AppConfig.ready()`.
- `MAINTENANCE` ("maintenance"): the parts the maintenance plans to come will use in the planning
  horizon. Maintenance plans do not exist yet; the app that brings them registers here and the plan's
  minimum takes that demand in with no change to inventory.

A source not registered contributes nothing (an empty dict).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

INSTALLED_BASE = "installed_base"
MAINTENANCE = "maintenance"

DemandSource = Callable[[list[int] | None, Iterable[int] | None], dict[int, Decimal]]

_sources: dict[str, DemandSource] = {}


def register_demand_source(name: str, fn: DemandSource) -> None:
    """Offer a demand source under `name` (registering the same name again replaces it)."""
    _sources[name] = fn


def demand(name: str, area_ids: list[int] | None, part_ids: Iterable[int] | None = None) -> dict[int, Decimal]:
    """What the source `name` says, {part id: quantity}; empty when nothing registered it."""
    fn = _sources.get(name)
    if fn is None:
        return {}
    ids = None if part_ids is None else sorted(set(part_ids))
    return {part: Decimal(quantity) for part, quantity in fn(area_ids, ids).items() if quantity}
