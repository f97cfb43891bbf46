"""Stock counts (盘点): a count sheet for one warehouse or van, counted, reviewed and posted.

open → (counted, line by line, by the keeper or the engineer whose van it is) → posted (each
difference written to the ledger as a stock-count adjustment, with the keeper as actor and the
reason as the note) or cancelled. One open count per warehouse (a database constraint).

A blind count hides the expected figures from the counting page; the keeper sees the differences
only on the review step, before posting.

Which figure a difference is measured against: the count is of the stock as it stood when the sheet
was opened (the snapshot `expected`), so posting adds `counted - expected` to the balance. Stock that
moved while counting (a part used on a job, a receipt) is kept as it moved, not overwritten by the
count: a warehouse being counted should not ship, and if it did, those moves stay on the ledger next
to the adjustment. If such a move left less on hand than a negative difference takes away, posting
is refused naming the part (the ledger never goes below zero); the review page shows the on-hand now
next to the expected figure so the keeper sees it coming.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import CountStatus, Grade, MoveReason, Tracking, WarehouseKind
from fieldservice.inventory.models import Part, StockBalance, StockCount, StockCountLine, Warehouse
from fieldservice.inventory.permissions import is_own_van, may_operate
from fieldservice.inventory.services.ledger import Document, Line, post, quantity_of

MAX_EXTRA = 200
ZERO = Decimal("0")


def may_count(actor: User, count: StockCount) -> bool:
    """Enter counted quantities: the keeper, or the engineer whose van is counted."""
    return may_operate(actor, count.warehouse) or is_own_van(actor, count.warehouse)


def may_review(actor: User, count: StockCount) -> bool:
    """See the expected figures and differences of a blind count, post or cancel it."""
    return may_operate(actor, count.warehouse)


def shows_expected(actor: User, count: StockCount, *, review: bool = False) -> bool:
    """Whether `actor` may see the expected figures of `count` now."""
    if not count.blind or count.status != CountStatus.OPEN:
        return True
    return review and may_review(actor, count)


def with_totals(counts):
    """Counts annotated with their number of lines and of lines counted differently than expected."""
    return counts.annotate(
        line_total=Count("lines", distinct=True),
        difference_total=Count(
            "lines", filter=Q(lines__counted__isnull=False) & ~Q(lines__counted=F("lines__expected")), distinct=True
        ),
    )


def _open_one(count: StockCount) -> StockCount:
    current = StockCount.objects.select_for_update().select_related("warehouse").get(pk=count.pk)
    if current.status != CountStatus.OPEN:
        raise DomainError(
            f"already_{current.status}",
            _("%(number)s is already %(status)s.") % {"number": current.number, "status": current.get_status_display()},
        )
    return current


@transaction.atomic
def open_count(warehouse: Warehouse, *, actor: User, blind: bool = True) -> StockCount:
    """A count sheet with one line per balance of the warehouse that holds or reserves something;
    `expected` is the on-hand of that moment."""
    require(may_operate(actor, warehouse))
    if warehouse.kind == WarehouseKind.TRANSIT:
        raise field_error("warehouse", _("Goods in transit are not counted on a shelf."), "invalid_choice")
    existing = StockCount.objects.filter(warehouse=warehouse, status=CountStatus.OPEN).first()
    if existing is not None:
        raise DomainError(
            "count_open",
            _("%(warehouse)s is being counted already (%(number)s): post or cancel that count first.")
            % {"warehouse": warehouse.name, "number": existing.number},
        )
    try:
        with transaction.atomic():
            count = StockCount.objects.create(warehouse=warehouse, blind=bool(blind), created_by=actor)
    except IntegrityError:
        raise DomainError(
            "count_open", _("%(warehouse)s is being counted already.") % {"warehouse": warehouse.name}
        ) from None
    count.number = f"SC{count.pk:07d}"
    StockCount.objects.filter(pk=count.pk).update(number=count.number)
    balances = StockBalance.objects.filter(warehouse=warehouse).filter(~Q(on_hand=0) | ~Q(reserved=0))
    StockCountLine.objects.bulk_create(
        [
            StockCountLine(count=count, part_id=row.part_id, lot=row.lot, grade=row.grade, expected=row.on_hand)
            for row in balances.order_by("part__part_number", "lot", "grade")
        ]
    )
    record_created(count, actor=actor, fields=["warehouse", "blind"], related=warehouse)
    return count


def _part_of(value, name: str) -> Part:
    part = value if isinstance(value, Part) else None
    if part is None and isinstance(value, int) and not isinstance(value, bool):
        part = Part.objects.filter(pk=value).first()
    if part is None:
        raise field_error(name, _("Unknown part."), "invalid_choice")
    return part


def _whole(part: Part, amount: Decimal, name: str) -> None:
    if part.tracking == Tracking.SERIAL and amount != amount.to_integral_value():
        raise field_error(name, _("Serial-tracked parts are counted in whole units."), "invalid")


@transaction.atomic
def record_counts(
    count: StockCount, *, actor: User, counted: dict[int, object] | None = None, extra: list[dict] = ()
) -> StockCount:
    """Write what was found: `counted` {line id: quantity} (zero allowed), and `extra` parts found
    that the sheet did not expect ({part, lot, grade, quantity}); an extra part already on the sheet
    sets that line."""
    require(may_count(actor, count))
    current = _open_one(count)
    counted = counted or {}
    extra = list(extra or [])
    if len(extra) > MAX_EXTRA:
        raise field_error("extra", _("At most %(n)d lines.") % {"n": MAX_EXTRA}, "too_many")
    lines = {line.pk: line for line in current.lines.select_related("part")}
    unknown = [pk for pk in counted if pk not in lines]
    if unknown:
        raise field_error(
            "counted",
            _("Line %(line)s is not on this count.") % {"line": sorted(unknown, key=str)[0]},
            "invalid_choice",
        )
    changed = []
    for pk, value in counted.items():
        line = lines[pk]
        amount = quantity_of(value, f"counted[{pk}]", allow_zero=True)
        _whole(line.part, amount, f"counted[{pk}]")
        line.counted = amount
        changed.append(line)
    by_key = {(line.part_id, line.lot, line.grade): line for line in lines.values()}
    new = []
    for index, item in enumerate(extra):
        if not isinstance(item, dict):
            raise field_error(f"extra[{index}]", _("Give the part and the quantity found."), "invalid")
        part = _part_of(item.get("part"), f"extra[{index}].part")
        lot = check_length(item.get("lot") or "", model=StockCountLine, field="lot", name=f"extra[{index}].lot")
        if part.tracking == Tracking.LOT and not lot:
            raise field_error(
                f"extra[{index}].lot",
                _("Part %(part)s is tracked by lot: give the lot.") % {"part": part.part_number},
                "required",
            )
        if part.tracking != Tracking.LOT and lot:
            raise field_error(
                f"extra[{index}].lot", _("Part %(part)s is not tracked by lot.") % {"part": part.part_number}, "invalid"
            )
        grade = item.get("grade") or Grade.GOOD
        if grade not in Grade.values:
            raise field_error(f"extra[{index}].grade", _("Unknown grade."), "invalid_choice")
        amount = quantity_of(item.get("quantity"), f"extra[{index}].quantity", allow_zero=True)
        _whole(part, amount, f"extra[{index}].quantity")
        key = (part.pk, lot, grade)
        if key in by_key:
            by_key[key].counted = amount
            changed.append(by_key[key])
            continue
        line = StockCountLine(count=current, part=part, lot=lot, grade=grade, expected=ZERO, counted=amount)
        by_key[key] = line
        new.append(line)
    StockCountLine.objects.bulk_update([line for line in changed if line.pk], ["counted"])
    StockCountLine.objects.bulk_create(new)
    return current


@transaction.atomic
def post_count(count: StockCount, *, actor: User, reason: str) -> StockCount:
    """Write every difference (counted - expected, see the module's note) as an adjustment, and
    close the count. A count without differences writes nothing to the ledger but still closes."""
    require(may_review(actor, count))
    reason = check_length(reason, model=StockCount, field="reason")
    if not reason:
        raise field_error("reason", _("Say why the stock is adjusted (the count's reason)."), "required")
    current = _open_one(count)
    lines = list(current.lines.select_related("part"))
    missing = [line for line in lines if line.counted is None]
    if missing:
        raise field_error(
            "counted",
            _("%(n)d lines are not counted yet, e.g. %(part)s. Enter 0 for a part that is not there.")
            % {"n": len(missing), "part": missing[0].part.part_number},
            "incomplete",
        )
    moves = [
        Line(
            current.warehouse,
            line.part,
            MoveReason.ADJUSTMENT,
            quantity=line.counted - line.expected,
            lot=line.lot,
            grade=line.grade,
            note=reason,
        )
        for line in lines
        if line.counted != line.expected
    ]
    post(moves, actor=actor, document=Document(kind="count", id=current.pk, reference=current.number))
    current.status, current.posted_by, current.posted_at, current.reason = (
        CountStatus.POSTED,
        actor,
        timezone.now(),
        reason,
    )
    current.save(update_fields=["status", "posted_by", "posted_at", "reason"])
    record_event(
        current,
        actor=actor,
        action="count_posted",
        note=_("%(n)d differences") % {"n": len(moves)},
        related=current.warehouse,
    )
    return current


@transaction.atomic
def cancel_count(count: StockCount, *, actor: User, reason: str = "") -> StockCount:
    require(may_review(actor, count))
    reason = check_length(reason, model=StockCount, field="reason")
    current = _open_one(count)
    current.status, current.reason = CountStatus.CANCELLED, reason
    current.save(update_fields=["status", "reason"])
    record_event(current, actor=actor, action="count_cancelled", note=reason, related=current.warehouse)
    return current
