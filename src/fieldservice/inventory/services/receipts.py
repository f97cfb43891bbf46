"""Stock coming in from outside (a purchase, opening stock) and going out for good (scrap)."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import field_error, require
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import Grade, MoveReason, Tracking, UnitStatus, WarehouseKind
from fieldservice.inventory.models import Part, SerialUnit, StockMove, Warehouse
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.ledger import Document, Line, post, quantity_of

MAX_SERIALS = 1000


def serials_of(part: Part, serials, quantity: Decimal) -> list[str]:
    """The serial numbers typed for a serial-tracked part: one per unit, none repeated."""
    if isinstance(serials, str):
        serials = serials.replace(",", "\n").split()
    cleaned = [check_length(str(serial), model=SerialUnit, field="serial", name="serials") for serial in serials or []]
    cleaned = [serial for serial in cleaned if serial]
    if part.tracking != Tracking.SERIAL:
        if cleaned:
            raise field_error(
                "serials", _("Part %(part)s is not tracked by serial number.") % {"part": part.part_number}, "invalid"
            )
        return []
    if len(cleaned) > MAX_SERIALS:
        raise field_error("serials", _("At most %(n)d serial numbers at once.") % {"n": MAX_SERIALS}, "too_many")
    if quantity != len(cleaned):
        raise field_error(
            "serials",
            _("Give one serial number per unit: %(quantity)s units, %(serials)d serial numbers.")
            % {"quantity": quantity.normalize(), "serials": len(cleaned)},
            "count_mismatch",
        )
    if len(set(cleaned)) != len(cleaned):
        raise field_error("serials", _("A serial number is repeated."), "duplicate")
    return cleaned


@transaction.atomic
def receive_stock(
    warehouse: Warehouse,
    *,
    actor: User,
    part: Part,
    quantity,
    unit_cost=None,
    lot: str = "",
    serials=(),
    reference: str = "",
    note: str = "",
) -> list[StockMove]:
    """Goods arriving from a supplier or the factory (or opening stock): on-hand goes up and the
    part's moving-average cost takes in the price."""
    require(may_operate(actor, warehouse))
    if warehouse.kind in (WarehouseKind.TRANSIT, WarehouseKind.VAN):
        raise field_error(
            "warehouse", _("Receive stock into a warehouse; engineers are filled by requisitions."), "invalid"
        )
    if not warehouse.is_active:
        raise field_error("warehouse", _("This warehouse is not active."), "inactive")
    if not part.is_active:
        raise field_error("part", _("Part %(part)s is no longer active.") % {"part": part.part_number}, "inactive")
    amount = quantity_of(quantity)
    cost = None if unit_cost in (None, "") else quantity_of(unit_cost, "unit_cost", allow_zero=True)
    lot = check_length(lot, model=SerialUnit, field="lot")
    if part.tracking == Tracking.LOT and not lot:
        raise field_error(
            "lot", _("Part %(part)s is tracked by lot: give the lot.") % {"part": part.part_number}, "required"
        )
    if part.tracking == Tracking.NONE and lot:
        raise field_error("lot", _("Part %(part)s is not tracked by lot.") % {"part": part.part_number}, "invalid")
    numbers = serials_of(part, serials, amount)
    reference = check_length(reference, model=StockMove, field="reference")
    note = check_length(note, model=StockMove, field="note")
    document = Document(kind="receipt", reference=reference)
    if not numbers:
        return post(
            [
                Line(
                    warehouse,
                    part,
                    MoveReason.RECEIPT,
                    quantity=amount,
                    lot=lot if part.tracking == Tracking.LOT else "",
                    unit_cost=cost,
                    note=note,
                )
            ],
            actor=actor,
            document=document,
        )
    known = dict(SerialUnit.objects.filter(part=part, serial__in=numbers).values_list("serial", "status"))
    back = [
        serial
        for serial, status in known.items()
        if status in (UnitStatus.IN_STOCK, UnitStatus.IN_TRANSIT, UnitStatus.FITTED)
    ]
    if back:
        raise field_error(
            "serials", _("Serial %(serial)s is already known and not returned.") % {"serial": back[0]}, "duplicate"
        )
    units = []
    for serial in numbers:
        unit, _created = SerialUnit.objects.get_or_create(
            part=part, serial=serial, defaults={"lot": lot, "status": UnitStatus.IN_TRANSIT, "warehouse": None}
        )
        units.append(unit)
    return post(
        [
            Line(warehouse, part, MoveReason.RECEIPT, quantity=Decimal(1), unit=unit, unit_cost=cost, note=note)
            for unit in units
        ],
        actor=actor,
        document=document,
    )


@transaction.atomic
def scrap_stock(
    warehouse: Warehouse,
    *,
    actor: User,
    part: Part,
    quantity,
    lot: str = "",
    grade: str = Grade.GOOD,
    serial: str = "",
    note: str,
) -> list[StockMove]:
    """Throw away stock that cannot be used or sent back (broken in the warehouse, expired)."""
    require(may_operate(actor, warehouse))
    amount = quantity_of(quantity)
    note = check_length(note, model=StockMove, field="note")
    if not note:
        raise field_error("note", _("Say why the stock is scrapped."), "required")
    if grade not in Grade.values:
        raise field_error("grade", _("Unknown grade."), "invalid_choice")
    unit = None
    if part.tracking == Tracking.SERIAL:
        unit = SerialUnit.objects.filter(part=part, serial=(serial or "").strip()).first()
        if unit is None:
            raise field_error("serial", _("Give the serial number of the unit scrapped."), "required")
    return post(
        [Line(warehouse, part, MoveReason.SCRAP, quantity=-amount, lot=lot, grade=grade, unit=unit, note=note)],
        actor=actor,
        document=Document(kind="scrap"),
    )
