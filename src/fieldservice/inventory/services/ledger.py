"""The one writer of stock: `post` appends ledger rows and moves the balances they add up to.

Every stock change in the product (a receipt, a requisition shipped, a part used on a job, a count
posted) is a list of `Line`s given to `post`, which in one transaction:

1. makes sure a balance row exists for every (warehouse, part, lot, grade) touched;
2. locks those rows in one fixed order (by id), so two posts touching the same parts wait for each
   other instead of deadlocking;
3. checks every line against the locked figures: on-hand never below zero, never below what is
   reserved (stock promised to a requisition is not free to use), a serial unit moves out only of the
   warehouse it is in; a line that fails raises a field error and nothing is written;
4. moves the balances with `F()` updates, appends the ledger rows with the balance after each, and
   moves serial units and the part's moving-average cost.

The database backs the rules with constraints (on-hand >= 0, reserved <= on-hand), so even a writer
that skipped this module could not take stock below zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import Organisation, User
from fieldservice.core.errors import field_error
from fieldservice.core.outbox import emit
from fieldservice.inventory.choices import Grade, MoveReason, UnitStatus, WarehouseKind
from fieldservice.inventory.models import Part, SerialUnit, StockBalance, StockLevel, StockMove, Warehouse

QUANTUM = Decimal("0.001")
MAX_QUANTITY = Decimal("100000000")
ZERO = Decimal("0")

# Where a unit that leaves a warehouse ends up, by the reason it left.
_UNIT_STATUS_ON_EXIT = {
    MoveReason.CONSUMPTION: UnitStatus.FITTED,
    MoveReason.RETURN_TO_FACTORY: UnitStatus.AT_FACTORY,
    MoveReason.SCRAP: UnitStatus.SCRAPPED,
    MoveReason.ADJUSTMENT: UnitStatus.SCRAPPED,
    MoveReason.SHORTFALL: UnitStatus.SCRAPPED,
    # A removal taken back (recorded by mistake): the unit is on the machine again.
    MoveReason.REMOVED_FROM_MACHINE: UnitStatus.FITTED,
}
# Reasons whose incoming cost moves the part's moving average (stock bought in, or found at a count).
_COSTED_IN = {MoveReason.RECEIPT}


@dataclass(frozen=True)
class Line:
    """One change of one balance: `quantity` to on-hand, `reserved` to the reservation (signed)."""

    warehouse: Warehouse
    part: Part
    reason: str
    quantity: Decimal = ZERO
    reserved: Decimal = ZERO
    lot: str = ""
    grade: str = Grade.GOOD
    unit: SerialUnit | None = None
    unit_cost: Decimal | None = None  # a receipt's price; otherwise the part's average cost
    note: str = ""

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.warehouse.pk, self.part.pk, self.lot, self.grade)


@dataclass
class Document:
    """What caused a post, written on each of its ledger rows."""

    kind: str = ""
    id: int | None = None
    reference: str = ""
    work_order_id: int | None = None
    equipment_id: int | None = None


def quantity_of(value, field_name: str = "quantity", *, allow_zero: bool = False) -> Decimal:
    """A quantity typed by a person or sent by a client: a positive number with at most three
    decimals. Raises a field error naming `field_name`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise field_error(field_name, _("This field is required."), "required")
    if isinstance(value, bool):
        raise field_error(field_name, _("Enter a number."), "invalid")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(field_name, _("Enter a number."), "invalid") from None
    if not amount.is_finite():
        raise field_error(field_name, _("Enter a number."), "invalid")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise field_error(field_name, _("The quantity must be more than zero."), "out_of_range")
    # The size first: quantizing a number as large as 1e999999 raises instead of answering.
    if amount >= MAX_QUANTITY or amount != amount.quantize(QUANTUM):
        raise field_error(field_name, _("Enter a quantity like 2 or 2.5."), "invalid")
    return amount


def transit_of(organisation: Organisation) -> Warehouse:
    """The organisation's goods in transit, a warehouse of its own (made the first time it ships)."""
    code = f"TRANSIT-{organisation.pk}"
    warehouse = Warehouse.objects.filter(code=code).first()
    if warehouse is not None:
        return warehouse
    try:
        with transaction.atomic():
            return Warehouse.objects.create(
                code=code, name=str(_("In transit")), kind=WarehouseKind.TRANSIT, organisation=organisation
            )
    except IntegrityError:
        return Warehouse.objects.get(code=code)


def _label(line: Line) -> str:
    text = line.part.part_number
    if line.lot:
        text += f" ({line.lot})"
    if line.unit is not None:
        text += f" #{line.unit.serial}"
    return text


def _ensure_balances(missing: set[tuple[int, int, str, str]]) -> None:
    # Two posts may create the same row at once: the loser's insert is skipped, not an error.
    StockBalance.objects.bulk_create(
        [StockBalance(warehouse_id=w, part_id=p, lot=lot, grade=g) for w, p, lot, g in sorted(missing)],
        ignore_conflicts=True,
    )


@dataclass
class _Balance:
    pk: int
    on_hand: Decimal
    reserved: Decimal
    average_cost: Decimal  # the part's, as the lock read it
    watched: bool  # a minimum/maximum is set for this part in this warehouse


def _lock(keys: set[tuple[int, int, str, str]]) -> dict[tuple[int, int, str, str], _Balance]:
    """Lock the balance rows of `keys` in one fixed order (by id), reading with them what the rest
    of the post needs (the part's average cost, whether a stock level watches the row): one
    statement instead of three, written in SQL because the ORM's building of it cost more than the
    database's answering it, and the row locks are held until the commit."""
    balance, part, level = StockBalance._meta.db_table, Part._meta.db_table, StockLevel._meta.db_table
    ordered = sorted(keys)
    # A list of row values, not a chain of ORs: SQLite refuses an expression 1,000 deep.
    wanted = (
        "(b.warehouse_id, b.part_id, b.lot, b.grade) IN (VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(ordered)) + ")"
    )
    locking = " FOR UPDATE OF b" if connection.features.has_select_for_update_of else ""
    sql = (
        f"SELECT b.id, b.warehouse_id, b.part_id, b.lot, b.grade, b.on_hand, b.reserved, p.average_cost, "  # noqa: S608
        f"EXISTS (SELECT 1 FROM {level} l WHERE l.warehouse_id = b.warehouse_id AND l.part_id = b.part_id) "
        f"FROM {balance} b JOIN {part} p ON p.id = b.part_id WHERE {wanted} ORDER BY b.id{locking}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for key in ordered for value in key])
        rows = cursor.fetchall()
    return {
        (warehouse_id, part_id, lot, grade): _Balance(
            pk, _dec(on_hand, QUANTUM), _dec(reserved, QUANTUM), _dec(cost, Decimal("0.0001")), bool(watched)
        )
        for pk, warehouse_id, part_id, lot, grade, on_hand, reserved, cost, watched in rows
    }


def _dec(value, quantum: Decimal) -> Decimal:
    """PostgreSQL answers a Decimal; SQLite a number, made exact again at the column's scale."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(quantum)


def _move_balances(balances, totals: dict[tuple, tuple[Decimal, Decimal]]) -> None:
    """Every balance's change in one UPDATE (F()-style: added to what the row holds, under its lock)."""
    changes = [
        (balances[key].pk, quantity, reserved) for key, (quantity, reserved) in totals.items() if quantity or reserved
    ]
    if not changes:
        return
    table = StockBalance._meta.db_table
    whens = " ".join(["WHEN %s THEN %s"] * len(changes))
    cast = "::numeric" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET on_hand = on_hand + (CASE id {whens} END){cast}, "  # noqa: S608
        f"reserved = reserved + (CASE id {whens} END){cast} WHERE id IN ({', '.join(['%s'] * len(changes))})"
    )
    params = [v for pk, quantity, _r in changes for v in (pk, quantity)]
    params += [v for pk, _q, reserved in changes for v in (pk, reserved)]
    params += [pk for pk, _q, _r in changes]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _check_units(lines: list[Line]) -> None:
    for line in lines:
        if line.unit is None:
            continue
        if line.unit.part_id != line.part.pk:
            raise field_error(
                "unit", _("Serial %(serial)s is not a unit of this part.") % {"serial": line.unit.serial}, "invalid"
            )
        if abs(line.quantity) != 1:
            raise field_error("quantity", _("A serial unit moves one at a time."), "invalid")
    # Lock the units, then check each leaves the warehouse it is in and arrives where none is.
    ids = sorted({line.unit.pk for line in lines if line.unit is not None})
    if not ids:
        return
    current = {unit.pk: unit for unit in SerialUnit.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    whereabouts = {pk: (unit.warehouse_id, unit.grade) for pk, unit in current.items()}
    for line in sorted(lines, key=lambda line: line.quantity):  # exits before arrivals
        if line.unit is None:
            continue
        place, grade = whereabouts[line.unit.pk]
        if line.quantity < 0:
            if place != line.warehouse.pk or grade != line.grade:
                raise field_error(
                    "unit",
                    _("Serial %(serial)s is not in %(warehouse)s.")
                    % {"serial": line.unit.serial, "warehouse": line.warehouse.name},
                    "not_here",
                )
            whereabouts[line.unit.pk] = (None, grade)
        else:
            if place is not None:
                raise field_error(
                    "unit", _("Serial %(serial)s is already in stock.") % {"serial": line.unit.serial}, "in_stock"
                )
            whereabouts[line.unit.pk] = (line.warehouse.pk, line.grade)


def _move_units(lines: list[Line], at) -> None:
    for line in sorted(lines, key=lambda line: line.quantity):
        if line.unit is None:
            continue
        unit = line.unit
        if line.quantity < 0:
            unit.warehouse = None
            unit.status = _UNIT_STATUS_ON_EXIT.get(line.reason, UnitStatus.IN_TRANSIT)
        else:
            unit.warehouse = line.warehouse
            unit.grade = line.grade
            unit.status = UnitStatus.IN_TRANSIT if line.warehouse.kind == WarehouseKind.TRANSIT else UnitStatus.IN_STOCK
            if line.reason in (MoveReason.RECEIPT,):
                unit.received_at = at
        SerialUnit.objects.filter(pk=unit.pk).update(
            warehouse=unit.warehouse, status=unit.status, grade=unit.grade, received_at=unit.received_at
        )


def _average_costs(lines: list[Line]) -> dict[int, Decimal]:
    """The moving-average cost of each part after the costed receipts among `lines`: the good stock
    on hand everywhere, valued at the old average, plus what comes in at its price."""
    incoming: dict[int, list[Line]] = defaultdict(list)
    for line in lines:
        if line.reason in _COSTED_IN and line.grade == Grade.GOOD and line.quantity > 0 and line.unit_cost is not None:
            incoming[line.part.pk].append(line)
    if not incoming:
        return {}
    parts = {part.pk: part for part in Part.objects.select_for_update().filter(pk__in=sorted(incoming)).order_by("pk")}
    held = dict(
        StockBalance.objects.filter(part_id__in=incoming, grade=Grade.GOOD)
        .values("part_id")
        .annotate(total=Sum("on_hand"))
        .values_list("part_id", "total")
    )
    averages = {}
    for part_id, part_lines in incoming.items():
        quantity = max(held.get(part_id) or ZERO, ZERO)
        value = quantity * parts[part_id].average_cost
        for line in part_lines:
            quantity += line.quantity
            value += line.quantity * line.unit_cost
        averages[part_id] = (value / quantity).quantize(Decimal("0.0001")) if quantity else parts[part_id].average_cost
    return averages


@transaction.atomic
def post(lines: list[Line], *, actor: User | None, document: Document | None = None, at=None) -> list[StockMove]:
    """Apply `lines` to the balances and append them to the ledger, all or nothing."""
    lines = [line for line in lines if line.quantity or line.reserved]
    if not lines:
        return []
    document = document or Document()
    at = at or timezone.now()
    for line in lines:
        if line.warehouse.kind == WarehouseKind.TRANSIT and line.reserved:
            raise field_error("warehouse", _("Goods in transit cannot be reserved."), "invalid")
    keys = {line.key for line in lines}
    # Lock first: the rows nearly always exist. A missing one is made (two posts may make the same
    # row at once: inserted in key order, the loser's insert is skipped), then every row is locked.
    balances = _lock(keys)
    if len(balances) < len(keys):
        _ensure_balances(keys - set(balances))
        balances = _lock(keys)
    _check_units(lines)

    after: dict[tuple, tuple[Decimal, Decimal]] = {key: (row.on_hand, row.reserved) for key, row in balances.items()}
    on_hand_after = []
    for line in lines:
        on_hand, reserved = after[line.key]
        on_hand += line.quantity
        reserved += line.reserved
        if on_hand < 0:
            raise field_error(
                "quantity",
                _("Only %(quantity)s of %(part)s in %(warehouse)s.")
                % {
                    "quantity": (on_hand - line.quantity).normalize(),
                    "part": _label(line),
                    "warehouse": line.warehouse.name,
                },
                "insufficient_stock",
            )
        if reserved < 0:
            raise field_error(
                "quantity",
                _("Only %(quantity)s of %(part)s is reserved in %(warehouse)s.")
                % {
                    "quantity": (reserved - line.reserved).normalize(),
                    "part": _label(line),
                    "warehouse": line.warehouse.name,
                },
                "not_reserved",
            )
        if reserved > on_hand:
            free = after[line.key][0] - after[line.key][1]
            raise field_error(
                "quantity",
                _("Only %(quantity)s of %(part)s in %(warehouse)s is free; the rest is reserved.")
                % {"quantity": max(free, ZERO).normalize(), "part": _label(line), "warehouse": line.warehouse.name},
                "insufficient_stock",
            )
        after[line.key] = (on_hand, reserved)
        on_hand_after.append(on_hand)

    averages = _average_costs(lines)
    totals: dict[tuple, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for line in lines:
        quantity, reserved = totals[line.key]
        totals[line.key] = (quantity + line.quantity, reserved + line.reserved)
    _move_balances(balances, totals)
    for part_id, average in averages.items():
        Part.objects.filter(pk=part_id).update(average_cost=average)

    costs = {key[1]: row.average_cost for key, row in balances.items()}
    costs.update(averages)
    moves = [
        StockMove(
            at=at,
            actor=actor,
            reason=line.reason,
            warehouse=line.warehouse,
            part=line.part,
            lot=line.lot,
            grade=line.grade,
            unit=line.unit,
            quantity=line.quantity,
            reserved=line.reserved,
            # Defective stock is worth nothing to us until the factory says otherwise.
            unit_cost=ZERO
            if line.grade == Grade.DEFECTIVE
            else (line.unit_cost if line.unit_cost is not None else costs[line.part.pk]),
            on_hand_after=on_hand,
            document_kind=document.kind,
            document_id=document.id,
            reference=document.reference,
            work_order_id=document.work_order_id,
            equipment_id=document.equipment_id,
            note=line.note[:300],
        )
        for line, on_hand in zip(lines, on_hand_after, strict=True)
    ]
    _append(moves)
    _move_units(lines, at)
    if any(row.watched for row in balances.values()):
        _watch_levels(lines)
    return moves


_MOVE_COLUMNS = (
    "at", "actor_id", "reason", "warehouse_id", "part_id", "lot", "grade", "unit_id", "quantity", "reserved",
    "unit_cost", "on_hand_after", "document_kind", "document_id", "reference", "work_order_id", "equipment_id", "note",
)  # fmt: skip


# Rows per INSERT: 18 parameters each stays under PostgreSQL's 65,535 (a count posting thousands).
_APPEND_BATCH = 1000


def _append(moves: list[StockMove]) -> None:
    """Append the ledger rows in one INSERT (per thousand) and give them their ids: what `bulk_create`
    does, in SQL, because its building of the statement cost a writer more than the database's insert."""
    for start in range(0, len(moves), _APPEND_BATCH):
        _append_batch(moves[start : start + _APPEND_BATCH])


def _append_batch(moves: list[StockMove]) -> None:
    ops = connection.ops
    at = ops.adapt_datetimefield_value(moves[0].at)
    placeholders = "(" + ", ".join(["%s"] * len(_MOVE_COLUMNS)) + ")"
    params = []
    for move in moves:
        params += [
            at if move.at == moves[0].at else ops.adapt_datetimefield_value(move.at),
            move.actor_id,
            move.reason,
            move.warehouse_id,
            move.part_id,
            move.lot,
            move.grade,
            move.unit_id,
            ops.adapt_decimalfield_value(move.quantity, 12, 3),
            ops.adapt_decimalfield_value(move.reserved, 12, 3),
            ops.adapt_decimalfield_value(move.unit_cost, 14, 4),
            ops.adapt_decimalfield_value(move.on_hand_after, 12, 3),
            move.document_kind,
            move.document_id,
            move.reference,
            move.work_order_id,
            move.equipment_id,
            move.note,
        ]
    sql = (
        f"INSERT INTO {StockMove._meta.db_table} ({', '.join(_MOVE_COLUMNS)}) "  # noqa: S608
        f"VALUES {', '.join([placeholders] * len(moves))} RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    # Rows come back in the order of VALUES on both PostgreSQL and SQLite (as bulk_create relies on).
    for move, pk in zip(moves, ids, strict=True):
        move.pk = pk
        move._state.adding = False
        move._state.db = connection.alias


def _watch_levels(lines: list[Line]) -> None:
    """Tell the keepers once when a part falls below its warehouse's minimum; rearm when refilled."""
    touched = {(line.warehouse.pk, line.part.pk) for line in lines if line.grade == Grade.GOOD and line.quantity}
    if not touched:
        return
    levels = list(
        StockLevel.objects.filter(
            Q(*[Q(warehouse_id=w, part_id=p) for w, p in touched], _connector=Q.OR)
        ).select_related("warehouse", "part")
    )
    if not levels:
        return
    held = {
        (row["warehouse_id"], row["part_id"]): row["total"]
        for row in StockBalance.objects.filter(
            Q(*[Q(warehouse_id=level.warehouse_id, part_id=level.part_id) for level in levels], _connector=Q.OR),
            grade=Grade.GOOD,
        )
        .values("warehouse_id", "part_id")
        .annotate(total=Sum("on_hand"))
    }
    for level in levels:
        on_hand = held.get((level.warehouse_id, level.part_id)) or ZERO
        if on_hand < level.minimum and level.alerted_at is None:
            if StockLevel.objects.filter(pk=level.pk, alerted_at__isnull=True).update(alerted_at=timezone.now()):
                emit(
                    "stock.below_minimum",
                    {
                        "warehouse": level.warehouse_id,
                        "warehouse_name": level.warehouse.name,
                        "part": level.part_id,
                        "part_number": level.part.part_number,
                        "part_name": level.part.name,
                        "on_hand": str(on_hand),
                        "minimum": str(level.minimum),
                        "keepers": list(level.warehouse.keepers.values_list("pk", flat=True)),
                    },
                )
        elif on_hand >= level.minimum and level.alerted_at is not None:
            StockLevel.objects.filter(pk=level.pk).update(alerted_at=None)


def drift() -> list[dict]:
    """Every balance whose figures differ from the sum of its ledger rows (should be none)."""
    sums = {
        (row["warehouse_id"], row["part_id"], row["lot"], row["grade"]): (row["on_hand"], row["reserved"])
        for row in StockMove.objects.values("warehouse_id", "part_id", "lot", "grade").annotate(
            on_hand=Sum("quantity"), reserved=Sum("reserved")
        )
    }
    found = []
    seen = set()
    for balance in StockBalance.objects.values(
        "pk", "warehouse_id", "part_id", "lot", "grade", "on_hand", "reserved"
    ).iterator():
        key = (balance["warehouse_id"], balance["part_id"], balance["lot"], balance["grade"])
        seen.add(key)
        on_hand, reserved = sums.get(key, (ZERO, ZERO))
        if on_hand != balance["on_hand"] or reserved != balance["reserved"]:
            found.append(
                {"key": key, "balance": (balance["on_hand"], balance["reserved"]), "ledger": (on_hand, reserved)}
            )
    for key, (on_hand, reserved) in sums.items():
        if key not in seen and (on_hand or reserved):
            found.append({"key": key, "balance": None, "ledger": (on_hand, reserved)})
    return found
