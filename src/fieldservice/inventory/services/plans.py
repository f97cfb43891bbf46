"""Parts plans (备件计划): how much of each part a warehouse should hold, and refilling it.

For one warehouse, per part:

- installed: the parts in the machines of the warehouse's service area (machines × bill of
  materials), from the `installed_base` demand source that assets registers (`inventory.hooks`);
  everywhere when the warehouse has no area;
- planned: what maintenance plans to come will use (the `maintenance` demand source; none yet);
- consumed: parts used on work orders over the last `months` months, out of this warehouse and the
  vans of its organisation's engineers who cover its area (this warehouse alone when it has no area);
- on hand (good stock) and incoming (transfers to it requested, approved or on the road).

The suggestion, kept simple on purpose so a keeper can check it by hand:

    monthly = consumed / months
    minimum = ceil(monthly × LEAD_TIME_MONTHS + installed × SAFETY_RATE + planned)
    maximum = minimum + ceil(monthly × REFILL_MONTHS)

i.e. the minimum covers one month of usage while a refill is on its way, plus a safety stock of 2% of
the installed parts (failures the history has not seen yet), plus planned maintenance; the maximum
adds two months of usage so that a refill is not needed every week.

The keeper edits and applies the levels (`StockLevel`); the ledger then alerts the keepers once when
a part falls below its minimum, and `request_refills` turns every part below its minimum into one
transfer request bringing it back up to its maximum.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_event
from fieldservice.inventory import hooks
from fieldservice.inventory.choices import Grade, MoveReason, Tracking, TransferKind, TransferStatus, WarehouseKind
from fieldservice.inventory.models import Part, StockBalance, StockLevel, StockMove, Transfer, TransferLine, Warehouse
from fieldservice.inventory.permissions import may_operate, may_view_warehouse
from fieldservice.inventory.services.ledger import quantity_of
from fieldservice.inventory.services.transfers import request_transfer

LEAD_TIME_MONTHS = Decimal("1")
SAFETY_RATE = Decimal("0.02")
REFILL_MONTHS = Decimal("2")
MAX_MONTHS = 60
MAX_LEVELS = 1000
ZERO = Decimal("0")


@dataclass
class Suggestion:
    part: Part
    installed: Decimal
    planned: Decimal
    consumed: Decimal
    monthly: Decimal
    minimum: Decimal  # suggested
    maximum: Decimal  # suggested
    level_minimum: Decimal | None  # in force (applied), None when none is set
    level_maximum: Decimal | None
    on_hand: Decimal
    incoming: Decimal
    gap: Decimal  # what a refill would bring, against the level in force (0 when none or not below)

    @property
    def available(self) -> Decimal:
        return self.on_hand + self.incoming

    @property
    def below_minimum(self) -> bool:
        return self.level_minimum is not None and self.available < self.level_minimum


def _ceil(value: Decimal) -> Decimal:
    return Decimal(math.ceil(value))


def suggest(installed: Decimal, consumed: Decimal, months: int, planned: Decimal = ZERO) -> tuple[Decimal, Decimal]:
    """The suggested (minimum, maximum); see the module's note for the formula."""
    monthly = consumed / months
    minimum = _ceil(monthly * LEAD_TIME_MONTHS + installed * SAFETY_RATE + planned)
    return minimum, minimum + _ceil(monthly * REFILL_MONTHS)


def _gap(minimum: Decimal | None, maximum: Decimal | None, available: Decimal, part: Part) -> Decimal:
    if minimum is None or available >= minimum:
        return ZERO
    gap = max(maximum - available, ZERO)
    return _ceil(gap) if part.tracking == Tracking.SERIAL else gap


def _supplied_places(warehouse: Warehouse) -> list[int]:
    """The warehouse and the vans of its organisation's engineers who cover its area."""
    places = [warehouse.pk]
    if warehouse.area_id is not None:
        engineers = EngineerProfile.objects.filter(areas=warehouse.area_id).values("user_id")
        places += list(
            Warehouse.objects.filter(
                kind=WarehouseKind.VAN, organisation_id=warehouse.organisation_id, engineer__in=engineers
            ).values_list("pk", flat=True)
        )
    return places


def _consumed(warehouse: Warehouse, months: int) -> dict[int, Decimal]:
    since = timezone.now() - dt.timedelta(days=round(months * 365 / 12))
    rows = (
        StockMove.objects.filter(
            warehouse_id__in=_supplied_places(warehouse), reason=MoveReason.CONSUMPTION, at__gte=since
        )
        .values("part_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["part_id"]: -row["total"] for row in rows if row["total"]}


def _on_hand(warehouse: Warehouse) -> dict[int, Decimal]:
    rows = (
        StockBalance.objects.filter(warehouse=warehouse, grade=Grade.GOOD)
        .values("part_id")
        .annotate(total=Sum("on_hand"))
    )
    return {row["part_id"]: row["total"] for row in rows if row["total"]}


def incoming(warehouse: Warehouse) -> dict[int, Decimal]:
    """Good parts on their way to the warehouse: asked for, approved, or shipped and not received."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    lines = TransferLine.objects.filter(
        transfer__destination=warehouse,
        grade=Grade.GOOD,
        transfer__status__in=[TransferStatus.REQUESTED, TransferStatus.APPROVED, TransferStatus.SHIPPED],
    ).values_list("part_id", "transfer__status", "requested", "approved", "shipped")
    for part_id, status, requested, approved, shipped in lines:
        totals[part_id] += {
            TransferStatus.REQUESTED: requested,
            TransferStatus.APPROVED: approved,
            TransferStatus.SHIPPED: shipped,
        }[status]
    return {part: total for part, total in totals.items() if total}


def _check_warehouse(warehouse: Warehouse) -> None:
    if warehouse.kind == WarehouseKind.TRANSIT:
        raise field_error("warehouse", _("Goods in transit have no parts plan."), "invalid_choice")


def suggest_levels(*, actor: User, warehouse: Warehouse, months: int = 12) -> list[Suggestion]:
    """One suggestion per part the warehouse has anything to do with (installed in its area, used,
    held, on its way, or with a level set), by part number."""
    require(may_view_warehouse(actor, warehouse))
    _check_warehouse(warehouse)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise field_error("months", _("Choose between 1 and %(n)d months.") % {"n": MAX_MONTHS}, "out_of_range")
    areas = [warehouse.area_id] if warehouse.area_id is not None else None
    installed = hooks.demand(hooks.INSTALLED_BASE, areas)
    planned = hooks.demand(hooks.MAINTENANCE, areas)
    consumed = _consumed(warehouse, months)
    held = _on_hand(warehouse)
    coming = incoming(warehouse)
    levels = {level.part_id: level for level in StockLevel.objects.filter(warehouse=warehouse)}
    part_ids = set(installed) | set(planned) | set(consumed) | set(held) | set(coming) | set(levels)
    suggestions = []
    for part in Part.objects.filter(pk__in=part_ids).order_by("part_number"):
        used = consumed.get(part.pk, ZERO)
        minimum, maximum = suggest(installed.get(part.pk, ZERO), used, months, planned.get(part.pk, ZERO))
        level = levels.get(part.pk)
        on_hand, on_way = held.get(part.pk, ZERO), coming.get(part.pk, ZERO)
        suggestions.append(
            Suggestion(
                part=part,
                installed=installed.get(part.pk, ZERO),
                planned=planned.get(part.pk, ZERO),
                consumed=used,
                monthly=(used / months).quantize(Decimal("0.01")),
                minimum=minimum,
                maximum=maximum,
                level_minimum=level.minimum if level else None,
                level_maximum=level.maximum if level else None,
                on_hand=on_hand,
                incoming=on_way,
                gap=_gap(level.minimum if level else None, level.maximum if level else None, on_hand + on_way, part),
            )
        )
    return suggestions


@transaction.atomic
def apply_levels(*, actor: User, warehouse: Warehouse, levels: list[dict]) -> list[StockLevel]:
    """Set the minimum and maximum of parts in the warehouse: [{part, minimum, maximum}]. A part given
    0 and 0 has its level removed (no level, no alert)."""
    require(may_operate(actor, warehouse))
    _check_warehouse(warehouse)
    levels = list(levels or [])
    if not levels:
        raise field_error("levels", _("Give at least one part's levels."), "required")
    if len(levels) > MAX_LEVELS:
        raise field_error("levels", _("At most %(n)d lines.") % {"n": MAX_LEVELS}, "too_many")
    cleaned, seen = [], set()
    for index, item in enumerate(levels):
        if not isinstance(item, dict):
            raise field_error(f"levels[{index}]", _("Give the part, the minimum and the maximum."), "invalid")
        value = item.get("part")
        part = value if isinstance(value, Part) else None
        if part is None and isinstance(value, int) and not isinstance(value, bool):
            part = Part.objects.filter(pk=value).first()
        if part is None:
            raise field_error(f"levels[{index}].part", _("Unknown part."), "invalid_choice")
        if part.pk in seen:
            raise field_error(
                f"levels[{index}].part", _("Part %(part)s is listed twice.") % {"part": part.part_number}, "duplicate"
            )
        seen.add(part.pk)
        minimum = quantity_of(item.get("minimum"), f"levels[{index}].minimum", allow_zero=True)
        maximum = quantity_of(item.get("maximum"), f"levels[{index}].maximum", allow_zero=True)
        if maximum < minimum:
            raise field_error(
                f"levels[{index}].maximum",
                _("The maximum of %(part)s must be at least its minimum (%(minimum)s).")
                % {"part": part.part_number, "minimum": minimum.normalize()},
                "below_minimum",
            )
        cleaned.append((part, minimum, maximum))
    existing = {level.part_id: level for level in StockLevel.objects.filter(warehouse=warehouse, part__in=seen)}
    result, changes = [], {}
    for part, minimum, maximum in cleaned:
        level = existing.get(part.pk)
        before = f"{level.minimum.normalize()}–{level.maximum.normalize()}" if level else ""
        if not minimum and not maximum:
            if level is not None:
                level.delete()
                changes[part.part_number] = [before, ""]
            continue
        if level is None:
            level = StockLevel.objects.create(warehouse=warehouse, part=part, minimum=minimum, maximum=maximum)
        elif (level.minimum, level.maximum) != (minimum, maximum):
            level.minimum, level.maximum = minimum, maximum
            level.save(update_fields=["minimum", "maximum"])
        after = f"{minimum.normalize()}–{maximum.normalize()}"
        if before != after:
            changes[part.part_number] = [before, after]
        result.append(level)
    if changes:
        record_event(warehouse, actor=actor, action="levels_changed", changes=changes)
    return result


@transaction.atomic
def request_refills(*, actor: User, warehouse: Warehouse, source: Warehouse) -> Transfer | None:
    """One transfer request (调拨申请) from `source` bringing every part below its minimum (on hand +
    incoming) up to its maximum; None when no part is below its minimum. A van is refilled by a
    requisition instead."""
    require(may_operate(actor, warehouse))
    _check_warehouse(warehouse)
    held = _on_hand(warehouse)
    coming = incoming(warehouse)
    lines = []
    for level in StockLevel.objects.filter(warehouse=warehouse).select_related("part").order_by("part__part_number"):
        if not level.part.is_active:
            continue
        gap = _gap(
            level.minimum, level.maximum, held.get(level.part_id, ZERO) + coming.get(level.part_id, ZERO), level.part
        )
        if gap > 0:
            lines.append({"part": level.part, "quantity": gap})
    if not lines:
        return None
    return request_transfer(
        actor=actor,
        kind=TransferKind.REQUISITION if warehouse.is_van else TransferKind.TRANSFER,
        source=source,
        destination=warehouse,
        lines=lines,
        note=_("Refill to the parts plan of %(warehouse)s") % {"warehouse": warehouse.name},
    )
