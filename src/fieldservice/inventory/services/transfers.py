"""Stock on its way between two places, one document with one life for three uses:

- a requisition (领料单): an engineer (or a keeper for him) asks a warehouse for parts for his van,
  often for a work order; the keeper approves all or part, ships or hands them over, and the engineer
  confirms receipt on his phone;
- a transfer (调拨): a keeper moves stock between two warehouses of his organisation;
- a return (退料): an engineer sends parts from his van back to a warehouse: unused good parts, and
  the defective parts he removed from machines and owes.

requested → approved (the source's stock is reserved) → shipped (out of the source into the
organisation's goods in transit) → received (out of transit into the destination; what did not
arrive is written off as a shortfall on the ledger, so it is recorded, not lost). A request may be
rejected, and cancelled until it ships. Every step locks the document and checks its state first,
so the same approval or receipt sent twice (a double click, a retried request) moves stock once and
the second is told why.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.outbox import emit
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import (
    DefectStatus,
    Delivery,
    Grade,
    MoveReason,
    Tracking,
    TransferKind,
    TransferStatus,
    WarehouseKind,
)
from fieldservice.inventory.models import (
    DefectivePart,
    Part,
    SerialUnit,
    StockBalance,
    Transfer,
    TransferLine,
    Warehouse,
)
from fieldservice.inventory.permissions import is_own_van, may_operate
from fieldservice.inventory.services.ledger import Document, Line, post, quantity_of, transit_of

MAX_LINES = 200
PREFIX = {TransferKind.REQUISITION: "RQ", TransferKind.TRANSFER: "TR", TransferKind.RETURN: "RT"}
STORES = (WarehouseKind.CENTRAL, WarehouseKind.REGIONAL, WarehouseKind.PROVIDER)
ZERO = Decimal("0")


def _document(transfer: Transfer) -> Document:
    return Document(
        kind=f"transfer:{transfer.kind}",
        id=transfer.pk,
        reference=transfer.number or "",
        work_order_id=transfer.work_order_id,
    )


def _lock(transfer: Transfer, *allowed: str) -> Transfer:
    current = Transfer.objects.select_for_update().select_related("source", "destination").get(pk=transfer.pk)
    if current.status not in allowed:
        raise DomainError(
            f"already_{current.status}",
            _("%(number)s is already %(status)s.") % {"number": current.number, "status": current.get_status_display()},
        )
    return current


def _log(transfer: Transfer, actor: User, action: str, note: str = "") -> None:
    record_event(transfer, actor=actor, action=action, note=note)
    emit(
        f"stock.{action}",
        {
            "transfer": transfer.pk,
            "number": transfer.number,
            "kind": transfer.kind,
            "source": transfer.source_id,
            "destination": transfer.destination_id,
            "engineer": transfer.destination.engineer_id or transfer.source.engineer_id,
            "keepers": sorted(
                {user.pk for user in transfer.source.keepers.all()}
                | {user.pk for user in transfer.destination.keepers.all()}
            ),
            "urgent": transfer.urgent,
            "work_order": transfer.work_order_id,
        },
    )


def may_request(actor: User, kind: str, source: Warehouse, destination: Warehouse) -> bool:
    if kind == TransferKind.REQUISITION:
        return is_own_van(actor, destination) or may_operate(actor, source)
    if kind == TransferKind.RETURN:
        return is_own_van(actor, source) or may_operate(actor, source)
    return may_operate(actor, destination) or may_operate(actor, source)


def _check_places(kind: str, source: Warehouse, destination: Warehouse) -> None:
    if source.pk == destination.pk:
        raise field_error("destination", _("Choose another warehouse than the source."), "same_place")
    for name, place in (("source", source), ("destination", destination)):
        if not place.is_active:
            raise field_error(name, _("%(warehouse)s is not active.") % {"warehouse": place.name}, "inactive")
        if place.kind == WarehouseKind.TRANSIT:
            raise field_error(name, _("Goods in transit are not a place to send to or from."), "invalid_choice")
    if source.organisation_id != destination.organisation_id:
        raise field_error(
            "destination", _("Stock moves only between places of one organisation."), "other_organisation"
        )
    expected = {
        TransferKind.REQUISITION: (STORES, (WarehouseKind.VAN,)),
        TransferKind.TRANSFER: (STORES, STORES),
        TransferKind.RETURN: ((WarehouseKind.VAN,), STORES),
    }[kind]
    if source.kind not in expected[0]:
        message = (
            _("A return comes from an engineer's stock.")
            if kind == TransferKind.RETURN
            else _("Choose a warehouse to take the parts from.")
        )
        raise field_error("source", message, "invalid_choice")
    if destination.kind not in expected[1]:
        message = (
            _("A requisition fills an engineer's stock.")
            if kind == TransferKind.REQUISITION
            else _("Choose a warehouse to send the parts to.")
        )
        raise field_error("destination", message, "invalid_choice")


def _lines(kind: str, lines: list[dict]) -> list[dict]:
    """[{part, quantity, lot?, grade?}] checked: a known active part, a positive quantity, each part
    (and lot, grade) once."""
    if not lines:
        raise field_error("lines", _("Add at least one part."), "required")
    if len(lines) > MAX_LINES:
        raise field_error("lines", _("At most %(n)d lines.") % {"n": MAX_LINES}, "too_many")
    cleaned, seen = [], set()
    for index, line in enumerate(lines):
        part = line.get("part")
        if not isinstance(part, Part):
            part = Part.objects.filter(pk=part).first() if isinstance(part, int) else None
        if part is None:
            raise field_error(f"lines[{index}].part", _("Unknown part."), "invalid_choice")
        if not part.is_active:
            raise field_error(
                f"lines[{index}].part", _("Part %(part)s is no longer active.") % {"part": part.part_number}, "inactive"
            )
        quantity = quantity_of(line.get("quantity"), f"lines[{index}].quantity")
        if part.tracking == Tracking.SERIAL and quantity != quantity.to_integral_value():
            raise field_error(f"lines[{index}].quantity", _("Serial-tracked parts move in whole units."), "invalid")
        lot = check_length(line.get("lot", ""), model=TransferLine, field="lot", name=f"lines[{index}].lot")
        grade = line.get("grade") or Grade.GOOD
        if grade not in Grade.values or (grade == Grade.DEFECTIVE and kind != TransferKind.RETURN):
            raise field_error(f"lines[{index}].grade", _("Only a return carries defective parts."), "invalid_choice")
        key = (part.pk, lot, grade)
        if key in seen:
            raise field_error(
                f"lines[{index}].part", _("Part %(part)s is listed twice.") % {"part": part.part_number}, "duplicate"
            )
        seen.add(key)
        cleaned.append({"part": part, "quantity": quantity, "lot": lot, "grade": grade})
    return cleaned


def _reserve(transfer: Transfer, lines: list[TransferLine], actor: User, field_of) -> None:
    """Reserve the approved lines at the source. The ledger refuses more than is free and names
    `quantity`; the person is told which of his lines it was (`field_of(index, line)`)."""
    try:
        post(
            [
                Line(
                    transfer.source,
                    line.part,
                    MoveReason.RESERVE,
                    reserved=line.approved,
                    lot=line.lot,
                    grade=line.grade,
                )
                for line in lines
            ],
            actor=actor,
            document=_document(transfer),
        )
    except ValidationError as error:
        if not hasattr(error, "error_dict") or set(error.error_dict) != {"quantity"}:
            raise
        free = {
            (row.part_id, row.lot, row.grade): row.on_hand - row.reserved
            for row in StockBalance.objects.filter(warehouse=transfer.source, part__in=[line.part for line in lines])
        }
        for index, line in enumerate(lines):
            if line.approved and free.get((line.part_id, line.lot, line.grade), ZERO) < line.approved:
                raise ValidationError({field_of(index, line): error.error_dict["quantity"]}) from None
        raise


def _number(transfer: Transfer) -> None:
    transfer.number = f"{PREFIX[transfer.kind]}{transfer.pk:07d}"
    Transfer.objects.filter(pk=transfer.pk).update(number=transfer.number)


@transaction.atomic
def request_transfer(
    *,
    actor: User,
    kind: str,
    source: Warehouse,
    destination: Warehouse,
    lines: list[dict] = (),
    defects: list[DefectivePart] = (),
    urgent: bool = False,
    note: str = "",
    delivery: str = Delivery.SHIP,
    work_order_id: int | None = None,
    work_order_number: str = "",
) -> Transfer:
    """Ask for stock to move. `lines` are good parts ({part, quantity, lot}); a return may also bring
    `defects`, the defective parts the engineer owes (one line each). A return needs no approval:
    it starts approved, with its good parts reserved in the van."""
    if kind not in TransferKind.values:
        raise field_error("kind", _("Unknown kind of transfer."), "invalid_choice")
    require(may_request(actor, kind, source, destination))
    _check_places(kind, source, destination)
    if delivery not in Delivery.values:
        raise field_error("delivery", _("Choose how the parts travel."), "invalid_choice")
    note = check_length(note, model=Transfer, field="note")
    defects = list(defects)
    cleaned = _lines(kind, list(lines)) if (lines or not defects) else []
    if defects:
        if kind != TransferKind.RETURN:
            raise field_error("defects", _("Only a return carries defective parts."), "invalid")
        locked = list(
            DefectivePart.objects.select_for_update().filter(pk__in=[d.pk for d in defects]).select_related("part")
        )
        for defect in locked:
            if defect.status != DefectStatus.OWED or defect.warehouse_id != source.pk:
                raise field_error(
                    "defects",
                    _("%(part)s from %(order)s is not owed from this stock.")
                    % {"part": defect.part.part_number, "order": defect.work_order_number or "—"},
                    "not_owed",
                )
        defects = locked
    status = TransferStatus.APPROVED if kind == TransferKind.RETURN else TransferStatus.REQUESTED
    now = timezone.now()
    transfer = Transfer.objects.create(
        kind=kind,
        status=status,
        source=source,
        destination=destination,
        urgent=bool(urgent),
        note=note,
        delivery=delivery,
        work_order_id=work_order_id,
        work_order_number=check_length(work_order_number, model=Transfer, field="work_order_number"),
        requested_by=actor,
        requested_at=now,
        approved_by=actor if status == TransferStatus.APPROVED else None,
        approved_at=now if status == TransferStatus.APPROVED else None,
    )
    _number(transfer)
    approved = status == TransferStatus.APPROVED
    made = TransferLine.objects.bulk_create(
        [
            TransferLine(
                transfer=transfer,
                part=line["part"],
                lot=line["lot"],
                grade=line["grade"],
                requested=line["quantity"],
                approved=line["quantity"] if approved else ZERO,
            )
            for line in cleaned
        ]
        + [
            TransferLine(
                transfer=transfer,
                part=defect.part,
                grade=Grade.DEFECTIVE,
                requested=defect.quantity,
                approved=defect.quantity,
                defect=defect,
            )
            for defect in defects
        ]
    )
    if approved:
        _reserve(
            transfer,
            made,
            actor,
            lambda index, line: "defects" if line.defect_id else f"lines[{index}].quantity",
        )
        DefectivePart.objects.filter(pk__in=[d.pk for d in defects]).update(return_transfer=transfer)
    record_created(transfer, actor=actor, fields=["kind", "source", "destination", "urgent", "note"])
    _log(transfer, actor, "transfer_requested")
    return transfer


@transaction.atomic
def approve_transfer(transfer: Transfer, *, actor: User, quantities: dict[int, object] | None = None) -> Transfer:
    """The source's keeper agrees to all (no `quantities`) or part ({line id: quantity}, 0 to refuse
    a line); the approved stock is reserved at the source."""
    require(may_operate(actor, transfer.source))
    current = _lock(transfer, TransferStatus.REQUESTED)
    lines = list(current.lines.select_related("part"))
    quantities = quantities or {}
    unknown = set(quantities) - {line.pk for line in lines}
    if unknown:
        raise field_error(
            "quantities", _("Line %(line)s is not on this document.") % {"line": sorted(unknown)[0]}, "invalid_choice"
        )
    for line in lines:
        if line.pk in quantities:
            amount = quantity_of(quantities[line.pk], f"quantities[{line.pk}]", allow_zero=True)
            if amount > line.requested:
                raise field_error(
                    f"quantities[{line.pk}]",
                    _("At most the %(quantity)s requested.") % {"quantity": line.requested.normalize()},
                    "too_many",
                )
        else:
            amount = line.requested
        line.approved = amount
    if not any(line.approved for line in lines):
        raise field_error("quantities", _("Approve at least one part, or reject the request."), "nothing_approved")
    lines = _allocate_lots(current, lines)
    TransferLine.objects.bulk_update(lines, ["approved", "requested", "lot"])
    _reserve(current, lines, actor, lambda _index, line: f"quantities[{line.pk}]")
    current.status = TransferStatus.APPROVED
    current.approved_by, current.approved_at = actor, timezone.now()
    current.save(update_fields=["status", "approved_by", "approved_at"])
    partly = any(line.approved < line.requested for line in lines)
    _log(current, actor, "transfer_approved", _("partly") if partly else "")
    return current


def _allocate_lots(transfer: Transfer, lines: list[TransferLine]) -> list[TransferLine]:
    """A lot-tracked part asked for without a lot (an engineer asks for "seal kits", not for a lot)
    is served from the source's lots, oldest lot first: the line takes the first lot, and a line is
    added for each further lot it needs. What no lot can serve stays on the line, and the ledger
    then says how much is free."""
    served = []
    for line in lines:
        if line.part.tracking != Tracking.LOT or line.lot or not line.approved:
            served.append(line)
            continue
        free = [
            (row.lot, row.on_hand - row.reserved)
            for row in StockBalance.objects.filter(
                warehouse=transfer.source, part=line.part, grade=line.grade, on_hand__gt=F("reserved")
            ).order_by("lot")
        ]
        need, first = line.approved, True
        for lot, available in free:
            take = min(need, available)
            if first:
                line.lot, line.approved, first = lot, take, False
                served.append(line)
            else:
                line.requested -= take
                served.append(
                    TransferLine.objects.create(
                        transfer=transfer, part=line.part, lot=lot, grade=line.grade, requested=take, approved=take
                    )
                )
            need -= take
            if not need:
                break
        if first:
            served.append(line)
        elif need:
            line.approved += need  # more than the lots hold: the ledger refuses it, naming the line
    return served


def _release(transfer: Transfer, actor: User) -> None:
    lines = list(transfer.lines.select_related("part"))
    post(
        [
            Line(
                transfer.source, line.part, MoveReason.RELEASE, reserved=-line.approved, lot=line.lot, grade=line.grade
            )
            for line in lines
        ],
        actor=actor,
        document=_document(transfer),
    )
    DefectivePart.objects.filter(return_lines__transfer=transfer).update(return_transfer=None)


@transaction.atomic
def reject_transfer(transfer: Transfer, *, actor: User, reason: str) -> Transfer:
    require(
        may_operate(actor, transfer.source)
        if transfer.kind != TransferKind.RETURN
        else may_operate(actor, transfer.destination)
    )
    reason = check_length(reason, model=Transfer, field="closed_note", name="reason")
    if not reason:
        raise field_error("reason", _("Say why the request is rejected."), "required")
    current = _lock(transfer, TransferStatus.REQUESTED, TransferStatus.APPROVED)
    if current.status == TransferStatus.APPROVED:
        _release(current, actor)
    current.status, current.closed_note = TransferStatus.REJECTED, reason
    current.save(update_fields=["status", "closed_note"])
    _log(current, actor, "transfer_rejected", reason)
    return current


@transaction.atomic
def cancel_transfer(transfer: Transfer, *, actor: User, reason: str = "") -> Transfer:
    """The requester (or a keeper of the source) withdraws the request before it ships."""
    require(transfer.requested_by_id == actor.pk or may_operate(actor, transfer.source))
    current = _lock(transfer, TransferStatus.REQUESTED, TransferStatus.APPROVED)
    if current.status == TransferStatus.APPROVED:
        _release(current, actor)
    current.status = TransferStatus.CANCELLED
    current.closed_note = check_length(reason, model=Transfer, field="closed_note", name="reason")
    current.save(update_fields=["status", "closed_note"])
    _log(current, actor, "transfer_cancelled", current.closed_note)
    return current


def _units(line: TransferLine, serials, field: str, *, at: Warehouse, grade: str) -> list[SerialUnit]:
    if isinstance(serials, str):
        serials = serials.replace(",", "\n").split()
    serials = [str(serial).strip() for serial in serials or [] if str(serial).strip()]
    if len(serials) != int(line.approved) or len(set(serials)) != len(serials):
        raise field_error(
            field,
            _("Give the %(n)d serial numbers of %(part)s you send, each once.")
            % {"n": int(line.approved), "part": line.part.part_number},
            "count_mismatch",
        )
    units = {unit.serial: unit for unit in SerialUnit.objects.filter(part=line.part, serial__in=serials)}
    for serial in serials:
        unit = units.get(serial)
        if unit is None or unit.warehouse_id != at.pk or unit.grade != grade:
            raise field_error(
                field,
                _("Serial %(serial)s is not in %(warehouse)s.") % {"serial": serial, "warehouse": at.name},
                "not_here",
            )
    return [units[serial] for serial in serials]


def may_ship(actor: User, transfer: Transfer) -> bool:
    if transfer.kind == TransferKind.RETURN:
        return is_own_van(actor, transfer.source) or may_operate(actor, transfer.source)
    return may_operate(actor, transfer.source)


@transaction.atomic
def ship_transfer(
    transfer: Transfer,
    *,
    actor: User,
    delivery: str | None = None,
    carrier: str = "",
    tracking_number: str = "",
    serials: dict[int, object] | None = None,
) -> Transfer:
    """Send what was approved: out of the source, into the organisation's goods in transit. A
    carrier is named when it ships by carrier; serial-tracked parts name the units sent."""
    require(may_ship(actor, transfer))
    current = _lock(transfer, TransferStatus.APPROVED)
    delivery = delivery or current.delivery
    if delivery not in Delivery.values:
        raise field_error("delivery", _("Choose how the parts travel."), "invalid_choice")
    carrier = check_length(carrier, model=Transfer, field="carrier")
    tracking_number = check_length(tracking_number, model=Transfer, field="tracking_number")
    if delivery == Delivery.SHIP and not carrier and current.kind != TransferKind.RETURN:
        raise field_error("carrier", _("Name the carrier, or choose collection in person."), "required")
    serials = serials or {}
    transit = transit_of(current.source.organisation)
    moves, unit_sets = [], []
    lines = list(current.lines.select_related("part", "defect__unit"))
    for line in lines:
        if not line.approved:
            continue
        if line.part.tracking == Tracking.SERIAL and line.defect_id is None:
            units = _units(line, serials.get(line.pk), f"serials[{line.pk}]", at=current.source, grade=line.grade)
            unit_sets.append((line, units))
            for unit in units:
                moves.append(
                    Line(
                        current.source,
                        line.part,
                        MoveReason.TRANSFER_OUT,
                        quantity=Decimal(-1),
                        reserved=Decimal(-1),
                        grade=line.grade,
                        unit=unit,
                    )
                )
                moves.append(
                    Line(transit, line.part, MoveReason.IN_TRANSIT, quantity=Decimal(1), grade=line.grade, unit=unit)
                )
        else:
            unit = _defect_unit(line)
            moves.append(
                Line(
                    current.source,
                    line.part,
                    MoveReason.TRANSFER_OUT,
                    quantity=-line.approved,
                    reserved=-line.approved,
                    lot=line.lot,
                    grade=line.grade,
                    unit=unit,
                )
            )
            moves.append(
                Line(
                    transit,
                    line.part,
                    MoveReason.IN_TRANSIT,
                    quantity=line.approved,
                    lot=line.lot,
                    grade=line.grade,
                    unit=unit,
                )
            )
        line.shipped = line.approved
    post(moves, actor=actor, document=_document(current))
    TransferLine.objects.bulk_update(lines, ["shipped"])
    for line, units in unit_sets:
        line.units.set(units)
    DefectivePart.objects.filter(return_lines__transfer=current).update(status=DefectStatus.RETURNING)
    current.status, current.delivery, current.carrier, current.tracking_number = (
        TransferStatus.SHIPPED,
        delivery,
        carrier,
        tracking_number,
    )
    current.shipped_by, current.shipped_at = actor, timezone.now()
    current.save(update_fields=["status", "delivery", "carrier", "tracking_number", "shipped_by", "shipped_at"])
    _log(current, actor, "transfer_shipped", " ".join(filter(None, [carrier, tracking_number])))
    return current


def may_receive(actor: User, transfer: Transfer) -> bool:
    if transfer.kind == TransferKind.REQUISITION:
        return is_own_van(actor, transfer.destination) or may_operate(actor, transfer.destination)
    return may_operate(actor, transfer.destination)


@transaction.atomic
def receive_transfer(
    transfer: Transfer,
    *,
    actor: User,
    quantities: dict[int, object] | None = None,
    missing: dict[int, object] | None = None,
) -> Transfer:
    """Confirm what arrived: all that was shipped, or per line {line id: quantity received} (for a
    serial-tracked line, `missing` names the serials that did not arrive). What did not arrive is
    written off as a shortfall in transit."""
    require(may_receive(actor, transfer))
    current = _lock(transfer, TransferStatus.SHIPPED)
    quantities, missing = quantities or {}, missing or {}
    transit = transit_of(current.source.organisation)
    lines = list(current.lines.select_related("part", "defect__unit"))
    unknown = (set(quantities) | set(missing)) - {line.pk for line in lines}
    if unknown:
        raise field_error(
            "quantities", _("Line %(line)s is not on this document.") % {"line": sorted(unknown)[0]}, "invalid_choice"
        )
    moves, lost_defects, kept_defects = [], [], []
    for line in lines:
        if not line.shipped:
            continue
        field = f"quantities[{line.pk}]"
        if line.part.tracking == Tracking.SERIAL and line.defect_id is None:
            units = list(line.units.all())
            gone = missing.get(line.pk) or []
            if isinstance(gone, str):
                gone = gone.replace(",", "\n").split()
            gone = {str(serial).strip() for serial in gone if str(serial).strip()}
            strange = gone - {unit.serial for unit in units}
            if strange:
                raise field_error(
                    f"missing[{line.pk}]",
                    _("Serial %(serial)s was not shipped on this line.") % {"serial": sorted(strange)[0]},
                    "invalid_choice",
                )
            for unit in units:
                if unit.serial in gone:
                    moves.append(
                        Line(
                            transit, line.part, MoveReason.SHORTFALL, quantity=Decimal(-1), grade=line.grade, unit=unit
                        )
                    )
                else:
                    moves.append(
                        Line(
                            transit,
                            line.part,
                            MoveReason.TRANSFER_IN,
                            quantity=Decimal(-1),
                            grade=line.grade,
                            unit=unit,
                        )
                    )
                    moves.append(
                        Line(
                            current.destination,
                            line.part,
                            _in_reason(current, line),
                            quantity=Decimal(1),
                            grade=line.grade,
                            unit=unit,
                        )
                    )
            line.received = line.shipped - len(gone)
            continue
        if line.pk in quantities:
            amount = quantity_of(quantities[line.pk], field, allow_zero=True)
            if amount > line.shipped:
                raise field_error(
                    field,
                    _("More than the %(quantity)s shipped.") % {"quantity": line.shipped.normalize()},
                    "more_than_shipped",
                )
        else:
            amount = line.shipped
        if line.defect_id is not None and amount not in (ZERO, line.shipped):
            raise field_error(field, _("A defective part arrives whole or not at all."), "invalid")
        line.received = amount
        unit = _defect_unit(line)
        if amount:
            moves.append(
                Line(
                    transit,
                    line.part,
                    MoveReason.TRANSFER_IN,
                    quantity=-amount,
                    lot=line.lot,
                    grade=line.grade,
                    unit=unit,
                )
            )
            moves.append(
                Line(
                    current.destination,
                    line.part,
                    _in_reason(current, line),
                    quantity=amount,
                    lot=line.lot,
                    grade=line.grade,
                    unit=unit,
                )
            )
        if amount < line.shipped:
            moves.append(
                Line(
                    transit,
                    line.part,
                    MoveReason.SHORTFALL,
                    quantity=amount - line.shipped,
                    lot=line.lot,
                    grade=line.grade,
                    unit=unit,
                )
            )
        if line.defect_id is not None:
            (kept_defects if amount else lost_defects).append(line.defect_id)
    post(moves, actor=actor, document=_document(current))
    TransferLine.objects.bulk_update(lines, ["received"])
    now = timezone.now()
    DefectivePart.objects.filter(pk__in=kept_defects).update(
        status=DefectStatus.RETURNED, returned_at=now, warehouse=current.destination
    )
    # A defective part that did not arrive is still owed by the engineer who removed it.
    DefectivePart.objects.filter(pk__in=lost_defects).update(status=DefectStatus.OWED, return_transfer=None)
    current.status, current.received_by, current.received_at = TransferStatus.RECEIVED, actor, now
    current.save(update_fields=["status", "received_by", "received_at"])
    short = [line for line in lines if line.received < line.shipped]
    _log(current, actor, "transfer_received", _("shortfall") if short else "")
    return current


def _defect_unit(line: TransferLine) -> SerialUnit | None:
    """The serial unit a defective part brought back from a machine carries, if it is one whole
    unit: it travels with the part, so the ledger knows where that unit is."""
    defect = line.defect
    if defect is None or defect.unit_id is None or defect.quantity != 1:
        return None
    return defect.unit


def _in_reason(transfer: Transfer, line: TransferLine) -> str:
    if transfer.kind == TransferKind.RETURN:
        return MoveReason.RETURN_DEFECTIVE if line.grade == Grade.DEFECTIVE else MoveReason.RETURN_GOOD
    if transfer.kind == TransferKind.REQUISITION:
        return MoveReason.ISSUE
    return MoveReason.TRANSFER_IN


def may_view_requests_of(actor: User) -> bool:
    return can(actor, Capability.VIEW_STOCK) or can(actor, Capability.REQUEST_PARTS)
