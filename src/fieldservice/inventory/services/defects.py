"""Defective parts an engineer owes: a part taken off a machine on a visit goes into his van as
defective stock and is owed by him until a warehouse receives it on a return (transfers.py), from
where the keeper sends it to the factory (factory.py).

The work order and the machine are plain ids and labels: inventory sits below workorders and
assets, so the field app (above both) says which order and machine the part came from.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import DefectStatus, Grade, MoveReason, UnitStatus
from fieldservice.inventory.models import DefectivePart, Part, SerialUnit, Warehouse
from fieldservice.inventory.permissions import is_own_van, may_operate
from fieldservice.inventory.services.ledger import Document, Line, post, quantity_of

DEFECT_FIELDS = ["part", "quantity", "serial", "work_order_number", "equipment_label", "fault_category"]


def _may_hold(actor: User, van: Warehouse) -> bool:
    return is_own_van(actor, van) or may_operate(actor, van)


def _document(work_order_id, work_order_number: str, equipment_id) -> Document:
    return Document(
        kind="work_order",
        id=work_order_id,
        reference=work_order_number or "",
        work_order_id=work_order_id,
        equipment_id=equipment_id,
    )


@transaction.atomic
def record_removed_part(
    *,
    actor: User,
    van: Warehouse,
    part: Part,
    quantity,
    serial: str = "",
    work_order_id: int | None = None,
    work_order_number: str = "",
    equipment_id: int | None = None,
    equipment_label: str = "",
    fault_category: str = "",
) -> DefectivePart:
    """A part removed from a machine: defective stock in the engineer's van and a part he owes.

    When `serial` names a unit of the part that went onto a machine through the ledger, that unit
    comes back with it (and follows the part to the warehouse and the factory)."""
    require(_may_hold(actor, van))
    if not van.is_van:
        raise field_error("warehouse", _("A removed part goes into the engineer's own stock."), "invalid_choice")
    amount = quantity_of(quantity)
    serial = check_length(serial, model=DefectivePart, field="serial")
    unit = None
    if serial and amount == 1:
        unit = SerialUnit.objects.filter(part=part, serial=serial, status=UnitStatus.FITTED).first()
    post(
        [Line(van, part, MoveReason.REMOVED_FROM_MACHINE, quantity=amount, grade=Grade.DEFECTIVE, unit=unit)],
        actor=actor,
        document=_document(work_order_id, work_order_number, equipment_id),
    )
    defect = DefectivePart.objects.create(
        part=part,
        quantity=amount,
        unit=unit,
        serial=serial,
        engineer=van.engineer,
        warehouse=van,
        work_order_id=work_order_id,
        work_order_number=check_length(work_order_number, model=DefectivePart, field="work_order_number"),
        equipment_id=equipment_id,
        equipment_label=check_length(equipment_label, model=DefectivePart, field="equipment_label"),
        fault_category=check_length(fault_category, model=DefectivePart, field="fault_category"),
    )
    record_created(defect, actor=actor, fields=DEFECT_FIELDS, related=van)
    return defect


@transaction.atomic
def cancel_removed_part(defect: DefectivePart, *, actor: User) -> None:
    """Take back a removal recorded by mistake: the defective stock leaves the van again (a
    reversing ledger row) and the part is no longer owed. Only while it is still owed and not yet
    on a return: once it travels, the return has to be settled first."""
    current = (
        DefectivePart.objects.select_for_update(of=("self",))
        .select_related("part", "warehouse", "unit")
        .get(pk=defect.pk)
    )
    require(_may_hold(actor, current.warehouse))
    if current.status != DefectStatus.OWED or current.return_transfer_id is not None:
        raise DomainError(
            "defect_on_its_way",
            _("The removed part %(part)s is already on its way back; it cannot be taken back here.")
            % {"part": current.part.part_number},
        )
    post(
        [
            Line(
                current.warehouse,
                current.part,
                MoveReason.REMOVED_FROM_MACHINE,
                quantity=-current.quantity,
                grade=Grade.DEFECTIVE,
                unit=current.unit,
            )
        ],
        actor=actor,
        document=_document(current.work_order_id, current.work_order_number, current.equipment_id),
    )
    record_event(
        current.warehouse,
        actor=actor,
        action="defect_cancelled",
        note=f"{current.part.part_number} × {current.quantity.normalize()} ({current.work_order_number})",
    )
    if current.return_lines.exists():
        # A return that was cancelled still names it: keep the row, no longer owed.
        DefectivePart.objects.filter(pk=current.pk).update(status=DefectStatus.SCRAPPED)
    else:
        current.delete()
