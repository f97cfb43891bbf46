"""Returns to the factory (RMA): the keeper gathers defective parts his warehouse received back
from engineers, ships them to the factory, and records what the factory found for each.

draft → shipped (RETURN_TO_FACTORY ledger rows out of the warehouse's defective stock; each part
at the factory) → closed (every line has a finding; each part closed). Each step locks the return
and checks its state first, so the same shipment sent twice moves stock once.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import DefectStatus, FactoryReturnStatus, Finding, Grade, MoveReason, WarehouseKind
from fieldservice.inventory.models import DefectivePart, FactoryReturn, FactoryReturnLine, Warehouse
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.ledger import Document, Line, post

MAX_LINES = 200
STORES = (WarehouseKind.CENTRAL, WarehouseKind.REGIONAL, WarehouseKind.PROVIDER)
CENT = Decimal("0.01")
MAX_CREDIT = Decimal("10000000000")


def _document(factory_return: FactoryReturn) -> Document:
    return Document(kind="factory_return", id=factory_return.pk, reference=factory_return.number or "")


def _lock(factory_return: FactoryReturn, *allowed: str) -> FactoryReturn:
    current = (
        FactoryReturn.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=factory_return.pk)
    )
    if current.status not in allowed:
        raise DomainError(
            f"already_{current.status}",
            _("%(number)s is already %(status)s.") % {"number": current.number, "status": current.get_status_display()},
        )
    return current


def _defect_of(value) -> DefectivePart | None:
    if isinstance(value, DefectivePart):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return DefectivePart.objects.filter(pk=value).first()
    return None


@transaction.atomic
def create_factory_return(*, actor: User, warehouse: Warehouse, lines: list[dict], note: str = "") -> FactoryReturn:
    """A return (draft) of defective parts received in `warehouse`: `lines` are
    [{"defect": DefectivePart or id, "reason": text}], each part once."""
    require(may_operate(actor, warehouse))
    if warehouse.kind not in STORES:
        raise field_error("warehouse", _("Parts go to the factory from a warehouse."), "invalid_choice")
    note = check_length(note, model=FactoryReturn, field="note")
    lines = list(lines or [])
    if not lines:
        raise field_error("lines", _("Choose at least one defective part."), "required")
    if len(lines) > MAX_LINES:
        raise field_error("lines", _("At most %(n)d lines.") % {"n": MAX_LINES}, "too_many")
    chosen, reasons = [], []
    for index, line in enumerate(lines):
        defect = _defect_of(line.get("defect"))
        if defect is None:
            raise field_error(f"lines[{index}].defect", _("Unknown defective part."), "invalid_choice")
        if defect.pk in chosen:
            raise field_error(f"lines[{index}].defect", _("This part is listed twice."), "duplicate")
        chosen.append(defect.pk)
        reasons.append(
            check_length(line.get("reason", ""), model=FactoryReturnLine, field="reason", name=f"lines[{index}].reason")
        )
    locked = {
        defect.pk: defect
        for defect in DefectivePart.objects.select_for_update(of=("self",))
        .filter(pk__in=chosen)
        .select_related("part")
        .order_by("pk")
    }
    taken = set(FactoryReturnLine.objects.filter(defect_id__in=chosen).values_list("defect_id", flat=True))
    for index, pk in enumerate(chosen):
        defect = locked[pk]
        if defect.status != DefectStatus.RETURNED or defect.warehouse_id != warehouse.pk or pk in taken:
            raise field_error(
                f"lines[{index}].defect",
                _("%(part)s from %(order)s is not waiting in %(warehouse)s to go to the factory.")
                % {
                    "part": defect.part.part_number,
                    "order": defect.work_order_number or "—",
                    "warehouse": warehouse.name,
                },
                "not_here",
            )
    factory_return = FactoryReturn.objects.create(warehouse=warehouse, note=note, created_by=actor)
    factory_return.number = f"FR{factory_return.pk:07d}"
    FactoryReturn.objects.filter(pk=factory_return.pk).update(number=factory_return.number)
    FactoryReturnLine.objects.bulk_create(
        [
            FactoryReturnLine(factory_return=factory_return, defect=locked[pk], reason=reason)
            for pk, reason in zip(chosen, reasons, strict=True)
        ]
    )
    record_created(factory_return, actor=actor, fields=["warehouse", "note"])
    return factory_return


@transaction.atomic
def cancel_factory_return(factory_return: FactoryReturn, *, actor: User) -> None:
    """Drop a draft made by mistake: its parts are free to go on another return."""
    require(may_operate(actor, factory_return.warehouse))
    current = _lock(factory_return, FactoryReturnStatus.DRAFT)
    record_event(current.warehouse, actor=actor, action="factory_return_cancelled", note=current.number)
    current.delete()


@transaction.atomic
def ship_factory_return(
    factory_return: FactoryReturn, *, actor: User, carrier: str = "", tracking_number: str = ""
) -> FactoryReturn:
    """Send the parts: out of the warehouse's defective stock, each part now at the factory."""
    require(may_operate(actor, factory_return.warehouse))
    current = _lock(factory_return, FactoryReturnStatus.DRAFT)
    carrier = check_length(carrier, model=FactoryReturn, field="carrier")
    tracking_number = check_length(tracking_number, model=FactoryReturn, field="tracking_number")
    if not carrier:
        raise field_error("carrier", _("Name the carrier."), "required")
    lines = list(current.lines.select_related("defect__part", "defect__unit"))
    moves = []
    for line in lines:
        defect = line.defect
        unit = defect.unit
        # A unit travels with its part when the ledger has it here; otherwise the part moves by quantity.
        if unit is not None and (unit.warehouse_id != current.warehouse_id or unit.grade != Grade.DEFECTIVE):
            unit = None
        moves.append(
            Line(
                current.warehouse,
                defect.part,
                MoveReason.RETURN_TO_FACTORY,
                quantity=-defect.quantity,
                grade=Grade.DEFECTIVE,
                unit=unit,
                note=defect.work_order_number,
            )
        )
    post(moves, actor=actor, document=_document(current))
    DefectivePart.objects.filter(factory_line__factory_return=current).update(status=DefectStatus.AT_FACTORY)
    current.status, current.carrier, current.tracking_number = FactoryReturnStatus.SHIPPED, carrier, tracking_number
    current.shipped_at = timezone.now()
    current.save(update_fields=["status", "carrier", "tracking_number", "shipped_at"])
    record_event(current, actor=actor, action="factory_return_shipped", note=f"{carrier} {tracking_number}".strip())
    return current


def _credit(value, field: str) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool):
        raise field_error(field, _("Enter an amount."), "invalid")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(field, _("Enter an amount."), "invalid") from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or amount >= MAX_CREDIT:
        raise field_error(field, _("Enter an amount like 120 or 120.50."), "invalid")
    if amount < 0:
        raise field_error(field, _("The credit cannot be negative."), "out_of_range")
    return amount


@transaction.atomic
def record_finding(factory_return: FactoryReturn, *, actor: User, findings: dict[int, dict]) -> FactoryReturn:
    """What the factory found: {line id: {finding, credit, note}} for some or all lines. Each line's
    finding is recorded once; the return closes when every line has one."""
    require(may_operate(actor, factory_return.warehouse))
    current = FactoryReturn.objects.select_for_update().get(pk=factory_return.pk)
    if current.status == FactoryReturnStatus.DRAFT:
        raise DomainError("not_shipped", _("%(number)s has not been sent yet.") % {"number": current.number})
    if current.status != FactoryReturnStatus.SHIPPED:
        current = _lock(current, FactoryReturnStatus.SHIPPED)
    findings = findings or {}
    if not findings:
        raise field_error("findings", _("Record the finding of at least one part."), "required")
    lines = {line.pk: line for line in current.lines.select_related("defect__part")}
    now = timezone.now()
    found = []
    for pk, values in findings.items():
        line = lines.get(pk)
        if line is None:
            raise field_error("findings", _("Line %(line)s is not on this return.") % {"line": pk}, "invalid_choice")
        values = values or {}
        prefix = f"findings[{pk}]"
        if line.finding:
            raise field_error(prefix, _("The finding of this part is already recorded."), "already_found")
        finding = values.get("finding") or ""
        if finding not in Finding.values:
            raise field_error(f"{prefix}.finding", _("Choose what the factory found."), "invalid_choice")
        line.finding = finding
        line.credit = _credit(values.get("credit"), f"{prefix}.credit")
        line.finding_note = check_length(
            values.get("note", ""), model=FactoryReturnLine, field="finding_note", name=f"{prefix}.note"
        )
        line.found_at = now
        found.append(line)
    FactoryReturnLine.objects.bulk_update(found, ["finding", "credit", "finding_note", "found_at"])
    DefectivePart.objects.filter(factory_line__in=found).update(status=DefectStatus.CLOSED)
    if all(line.finding for line in lines.values()):
        current.status, current.closed_at = FactoryReturnStatus.CLOSED, now
        current.save(update_fields=["status", "closed_at"])
    record_event(
        current,
        actor=actor,
        action="factory_finding",
        note="; ".join(f"{line.defect.part.part_number}: {line.get_finding_display()}" for line in found),
    )
    return current
