"""What the engineer does on a visit: travel, check in, record the work, parts, photos, the
customer's signature, and completing it.

Every verb needs the actor to hold an accepted, active assignment on the order (lead or helper);
anyone else gets PermissionDenied. Answering the offer itself goes through
`dispatch.assignments.services.accept_assignment` / `reject_assignment`. Status moves go through
`workorders.services.lifecycle.transition`, the only writer of `WorkOrder.status`.
"""

import logging
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import FittedPartSource
from fieldservice.assets.models import FittedPart
from fieldservice.assets.services import add_fitted_part, replace_fitted_part
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_event
from fieldservice.core.geo import great_circle_km
from fieldservice.core.outbox import emit
from fieldservice.core.uploads import check_image
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field import selectors
from fieldservice.field.choices import PARTS_REPLACED, FieldAction
from fieldservice.field.models import PartUsage, Signature
from fieldservice.inventory import selectors as inventory_selectors
from fieldservice.inventory import services as inventory_services
from fieldservice.inventory.choices import Grade, MoveReason, Tracking, WarehouseKind
from fieldservice.inventory.models import DefectivePart, Part, SerialUnit, StockMove, Warehouse
from fieldservice.inventory.permissions import is_own_van, may_operate
from fieldservice.inventory.services import Document, Line, cancel_removed_part, post, record_removed_part
from fieldservice.inventory.services.ledger import quantity_of
from fieldservice.workorders.choices import AttachmentKind, ResolutionType, Transition, WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder
from fieldservice.workorders.services.intake import PHOTO_LIMIT, attach_file
from fieldservice.workorders.services.lifecycle import transition
from fieldservice.workorders.services.log import log_event

logger = logging.getLogger(__name__)

SIGNATURE_LIMIT = 1024 * 1024
SIGNATURE_FORMATS = {"PNG": ".png", "JPEG": ".jpg"}
MAX_PHOTOS_PER_ORDER = 30
TEXT_LIMIT = 5000
MICRODEGREE = Decimal("0.000001")


def _raise_collected(errors: dict[str, ValidationError]) -> None:
    if errors:
        raise ValidationError(errors)


# Who may act, and in which state ----------------------------------------------------------------


def _engineer_on(order: WorkOrder, actor: User) -> Assignment:
    """The actor's accepted assignment on the order. An engineer who was offered the order but has
    not accepted it yet is told to accept first; everyone else is refused."""
    require(can(actor, Capability.WORK_IN_FIELD))
    assignment = selectors.assignment_of(actor, order)
    require(assignment is not None)
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise DomainError(
            "illegal_transition", _("Accept work order %(number)s before working on it.") % {"number": order.number}
        )
    return assignment


def _lock_on_site(order: WorkOrder) -> WorkOrder:
    """Lock the order for the rest of the transaction; the visit's records need it on site."""
    current = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if current.status != WorkOrderStatus.ON_SITE:
        raise DomainError(
            "not_on_site",
            _("Work order %(number)s is %(status)s; this can only be recorded on site.")
            % {"number": current.number, "status": current.get_status_display()},
        )
    return current


# Parsing -----------------------------------------------------------------------------------------


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise field_error(field, _("Enter a number."), "invalid") from None
    if not number.is_finite():
        raise field_error(field, _("Enter a number."), "invalid")
    return number


def _coordinate(value, field: str, limit: int) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _decimal(value, field)
    if abs(number) > limit:
        raise field_error(field, _("Must be between -%(limit)d and %(limit)d.") % {"limit": limit}, "out_of_range")
    return number.quantize(MICRODEGREE, rounding=ROUND_HALF_UP)


def _location(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    latitude = _coordinate(latitude, "latitude", 90)
    longitude = _coordinate(longitude, "longitude", 180)
    if (latitude is None) != (longitude is None):
        missing = "latitude" if latitude is None else "longitude"
        raise field_error(missing, _("Give both latitude and longitude, or neither."), "required")
    return latitude, longitude


def _text(value, field: str, errors: dict, *, required: bool = True, limit: int = TEXT_LIMIT) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = ValidationError(_("This field is required."), code="required")
    elif len(text) > limit:
        errors[field] = ValidationError(_("At most %(n)d characters.") % {"n": limit}, code="max_length")
    return text


# Travel and arrival --------------------------------------------------------------------------------


@transaction.atomic
def start_travel(order: WorkOrder, *, actor: User, latitude=None, longitude=None) -> WorkOrder:
    """The engineer sets off for the site (from the accepted state)."""
    _engineer_on(order, actor)
    latitude, longitude = _location(latitude, longitude)
    return transition(order, Transition.START_TRAVEL, actor=actor, latitude=latitude, longitude=longitude)


@transaction.atomic
def check_in(
    order: WorkOrder,
    *,
    actor: User,
    latitude,
    longitude,
    accuracy=None,
    location_error: str = "",
) -> WorkOrder:
    """Arrival on site. The phone's location (if the engineer allowed it) goes on the service log
    with the distance to the site; without a location the check-in still counts and the log says so."""
    _engineer_on(order, actor)
    latitude, longitude = _location(latitude, longitude)
    if accuracy is not None and accuracy != "":
        accuracy = _decimal(accuracy, "accuracy")
        if accuracy < 0:
            raise field_error("accuracy", _("The accuracy cannot be negative."), "out_of_range")
        accuracy = float(accuracy.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    else:
        accuracy = None
    payload = {"distance_km": None, "accuracy": accuracy if latitude is not None else None}
    site = order.site
    if latitude is None:
        payload["location_missing"] = True
        payload["location_error"] = (location_error or "unavailable").strip()[:40]
        logger.info("Work order %s checked in by %s without a location (%s)", order.number, actor.pk, location_error)
    elif site is not None and site.latitude is not None and site.longitude is not None:
        payload["distance_km"] = round(great_circle_km(latitude, longitude, site.latitude, site.longitude), 3)
    return transition(order, Transition.CHECK_IN, actor=actor, latitude=latitude, longitude=longitude, payload=payload)


# On site -----------------------------------------------------------------------------------------------


@transaction.atomic
def record_work(
    order: WorkOrder, *, actor: User, resolution_type: str, fault_cause: str, actions_taken: str, labour_hours
) -> WorkOrder:
    """What was wrong and what was done. May be recorded again to correct it until the visit ends."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    errors: dict[str, ValidationError] = {}
    if resolution_type not in ResolutionType.values:
        errors["resolution_type"] = ValidationError(_("Choose how the fault was resolved."), code="invalid_choice")
    fault_cause = _text(fault_cause, "fault_cause", errors)
    actions_taken = _text(actions_taken, "actions_taken", errors)
    hours = None
    if labour_hours is None or (isinstance(labour_hours, str) and not labour_hours.strip()):
        errors["labour_hours"] = ValidationError(_("This field is required."), code="required")
    else:
        try:
            hours = _decimal(labour_hours, "labour_hours").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except ValidationError as error:
            errors.update(error.error_dict)
        else:
            if not Decimal(0) < hours <= Decimal(1000):
                errors["labour_hours"] = ValidationError(
                    _("Labour hours must be more than 0 and at most 1000."), code="out_of_range"
                )
    _raise_collected(errors)
    WorkOrder.objects.filter(pk=current.pk).update(
        resolution_type=resolution_type,
        fault_cause=fault_cause,
        actions_taken=actions_taken,
        labour_hours=hours,
        updated_at=timezone.now(),
    )
    log_event(
        current,
        actor=actor,
        action=FieldAction.WORK_RECORDED,
        payload={"resolution_type": resolution_type, "labour_hours": str(hours)},
    )
    order.refresh_from_db()
    return order


def _source_of(actor: User, warehouse: Warehouse | None) -> Warehouse | None:
    """Where the part comes from: the engineer's van, or a warehouse he may operate himself."""
    if warehouse is None:
        return inventory_selectors.van_of(actor)
    if warehouse.kind == WarehouseKind.TRANSIT or not warehouse.is_active:
        raise field_error("warehouse", _("Take the part from your stock or a warehouse."), "invalid_choice")
    if not (is_own_van(actor, warehouse) or may_operate(actor, warehouse)):
        message = _("You cannot take parts from %(name)s.") % {"name": warehouse.name}
        raise field_error("warehouse", message, "forbidden")
    return warehouse


def _stock_lines(part: Part, amount: Decimal, source: Warehouse | None, *, serial: str, serial_field: str, lot: str):
    """The ledger lines that take `amount` of `part` out of `source`, checked so the engineer is
    told which field is wrong (the ledger checks again under its locks)."""
    if part.tracking == Tracking.SERIAL:
        if not serial:
            raise field_error(serial_field, _("Scan or type the serial number of the part you fit."), "required")
        if amount != 1:
            raise field_error("quantity", _("A part with a serial number is recorded one unit at a time."), "invalid")
        unit = SerialUnit.objects.filter(part=part, serial=serial).first()
        if unit is None or source is None or unit.warehouse_id != source.pk or unit.grade != Grade.GOOD:
            where = source.name if source is not None else _("your stock")
            raise field_error(
                serial_field,
                _("Serial %(serial)s of %(part)s is not in %(warehouse)s.")
                % {"serial": serial, "part": part.part_number, "warehouse": where},
                "not_here",
            )
        return [Line(source, part, MoveReason.CONSUMPTION, quantity=-amount, lot=unit.lot, unit=unit)]
    if source is None:
        raise field_error(
            "quantity",
            _("You hold no %(part)s. Request it from a warehouse.") % {"part": part.part_number},
            "insufficient_stock",
        )
    if part.tracking == Tracking.LOT and not lot:
        held = list(
            inventory_selectors.van_stock(source).filter(part=part).values_list("lot", flat=True).order_by("lot")
        )
        if len(held) != 1:
            raise field_error("lot", _("Choose the lot of %(part)s you used.") % {"part": part.part_number}, "required")
        lot = held[0]
    return [Line(source, part, MoveReason.CONSUMPTION, quantity=-amount, lot=lot)]


def _post_for(order: WorkOrder, lines: list[Line], *, actor: User, serial_field: str) -> None:
    try:
        post(lines, actor=actor, document=_stock_document(order))
    except ValidationError as error:
        # The ledger names a unit "unit"; on this form the unit is the serial the engineer typed.
        errors = getattr(error, "error_dict", None)
        if errors and "unit" in errors:
            raise ValidationError({serial_field: errors["unit"]}) from None
        raise


def _stock_document(order: WorkOrder) -> Document:
    return Document(
        kind="work_order",
        id=order.pk,
        reference=order.number,
        work_order_id=order.pk,
        equipment_id=order.equipment_id,
    )


@transaction.atomic
def use_part(
    order: WorkOrder,
    *,
    actor: User,
    part: Part | None,
    quantity,
    replaces: FittedPart | None = None,
    new_serial: str = "",
    serial: str = "",
    lot: str = "",
    warehouse: Warehouse | None = None,
) -> PartUsage:
    """A part used on the visit, replacing one of the machine's fitted parts or added to it.

    The part leaves the engineer's van (or `warehouse`, one he may operate) when it is recorded: a
    CONSUMPTION row on the stock ledger for the work order, refused (field `quantity`) when he does
    not hold enough. A serial-tracked part names its unit (`serial`, or `new_serial` from the phone
    page), which must be in his van; a lot-tracked part its `lot` (the only lot he holds is taken
    when none is named). A replaced part comes off the machine into his van as defective stock and
    becomes a part he owes (`inventory.services.record_removed_part`). The machine's fitted parts
    change when the visit is completed. All or nothing."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    errors: dict[str, ValidationError] = {}
    if replaces is not None:
        if current.equipment_id is None or replaces.equipment_id != current.equipment_id:
            errors["replaces"] = ValidationError(
                _("This part is not fitted to the machine of this work order."), code="invalid_choice"
            )
        elif part is None:
            part = replaces.part
    if part is None and "replaces" not in errors:
        errors["part"] = ValidationError(_("Choose a part."), code="required")
    elif part is not None and not part.is_active:
        errors["part"] = ValidationError(
            _("Part %(part)s is no longer active.") % {"part": part.part_number}, code="inactive"
        )
    amount = None
    try:
        amount = quantity_of(quantity, "quantity")
    except ValidationError as error:
        errors.update(error.error_dict)
    else:
        if amount >= Decimal("10000000"):  # what a part-usage row holds, below the ledger's limit
            errors["quantity"] = ValidationError(_("Enter a quantity like 2 or 2.5."), code="invalid")
        elif replaces is not None and "replaces" not in errors:
            taken = PartUsage.objects.filter(work_order=current, replaces=replaces).aggregate(total=Sum("quantity"))
            left = replaces.quantity - (taken["total"] or 0)
            if amount > left:
                errors["quantity"] = ValidationError(
                    _("Only %(quantity)s of this part is fitted and not yet replaced.")
                    % {"quantity": left.normalize()},
                    code="too_many",
                )
    serial_field = "serial" if (serial or "").strip() else "new_serial"
    serial = _text(serial, "serial", errors, required=False, limit=64)
    new_serial = _text(new_serial, "new_serial", errors, required=False, limit=64)
    lot = _text(lot, "lot", errors, required=False, limit=64)
    _raise_collected(errors)
    source = _source_of(actor, warehouse)
    lines = _stock_lines(part, amount, source, serial=serial or new_serial, serial_field=serial_field, lot=lot)
    if lines[0].unit is not None:
        new_serial = lines[0].unit.serial
    usage = PartUsage.objects.create(
        work_order=current,
        part=part,
        quantity=amount,
        replaces=replaces,
        is_replacement=replaces is not None,
        replaced_part_number=replaces.part.part_number if replaces is not None else "",
        replaced_serial=replaces.part_serial_number if replaces is not None else "",
        new_serial=new_serial,
        recorded_by=actor,
    )
    note = f"usage:{usage.pk}"
    _post_for(current, [replace(line, note=note) for line in lines], actor=actor, serial_field=serial_field)
    defect = None
    if replaces is not None:
        equipment = current.equipment
        defect = record_removed_part(
            actor=actor,
            van=inventory_services.van_for(actor),
            part=replaces.part,
            quantity=amount,
            serial=replaces.part_serial_number,
            work_order_id=current.pk,
            work_order_number=current.number,
            equipment_id=current.equipment_id,
            equipment_label=equipment.serial_number if equipment is not None else "",
            fault_category=current.fault_category.name if current.fault_category_id else "",
        )
    log_event(
        current,
        actor=actor,
        action=FieldAction.PART_USED,
        note=f"{part.part_number} × {amount.normalize()}",
        payload={
            "usage": usage.pk,
            "part": part.pk,
            "part_number": part.part_number,
            "quantity": str(amount),
            "replaces": replaces.pk if replaces is not None else None,
            "new_serial": new_serial,
            "warehouse": lines[0].warehouse.pk,
            "lot": lines[0].lot,
            "defect": defect.pk if defect is not None else None,
        },
    )
    return usage


def _defect_of(order: WorkOrder, usage: PartUsage) -> DefectivePart | None:
    """The removed part a usage recorded (its id is on the usage's line of the service log)."""
    for event in order.events.filter(action=FieldAction.PART_USED).order_by("-pk"):
        if (event.payload or {}).get("usage") == usage.pk:
            defect_id = event.payload.get("defect")
            return DefectivePart.objects.filter(pk=defect_id).first() if defect_id else None
    return None


@transaction.atomic
def remove_part_usage(usage: PartUsage, *, actor: User) -> None:
    """Take back a part entry recorded by mistake (only while the visit is on site): the part goes
    back where it came from (reversing CONSUMPTION rows, same work order) and a part it replaced is
    no longer owed (refused once that part is on its way back to a warehouse)."""
    order = usage.work_order
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    if not PartUsage.objects.select_for_update().filter(pk=usage.pk, work_order=current).exists():
        raise DomainError("already_removed", _("This part entry was already removed."))
    defect = _defect_of(current, usage)
    if defect is not None:
        cancel_removed_part(defect, actor=actor)
    taken = StockMove.objects.filter(
        document_kind="work_order",
        document_id=current.pk,
        reason=MoveReason.CONSUMPTION,
        note=f"usage:{usage.pk}",
    ).select_related("warehouse", "part", "unit")
    back = [
        Line(move.warehouse, move.part, MoveReason.CONSUMPTION, quantity=-move.quantity, lot=move.lot, unit=move.unit)
        for move in taken
        if move.quantity < 0
    ]
    if back:
        post(
            [replace(line, note=f"usage:{usage.pk} removed") for line in back],
            actor=actor,
            document=_stock_document(current),
        )
    PartUsage.objects.filter(pk=usage.pk).delete()
    log_event(
        current,
        actor=actor,
        action=FieldAction.PART_REMOVED,
        note=f"{usage.part.part_number} × {usage.quantity.normalize()}",
        payload={"usage": usage.pk, "part": usage.part_id, "defect": defect.pk if defect is not None else None},
    )


@transaction.atomic
def add_photo(order: WorkOrder, *, actor: User, file) -> Attachment:
    """A photo of the machine or the work, taken on site."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    if not file:
        raise field_error("file", _("Choose a photo."), "required")
    check_image(file, "file", PHOTO_LIMIT)
    if selectors.photos_of(current).count() >= MAX_PHOTOS_PER_ORDER:
        raise field_error("file", _("At most %(n)d photos per work order.") % {"n": MAX_PHOTOS_PER_ORDER}, "too_many")
    attachment = attach_file(current, actor=actor, file=file, kind=AttachmentKind.PHOTO)
    log_event(current, actor=actor, action=FieldAction.PHOTO_ADDED, payload={"attachment": attachment.pk})
    return attachment


def _signature_format(image_file) -> str:
    """PNG or JPEG, not blank. Returns the Pillow format name."""
    check_image(image_file, "image", SIGNATURE_LIMIT)
    image_file.seek(0)
    with Image.open(image_file) as image:
        kind = image.format
        if kind not in SIGNATURE_FORMATS:
            raise field_error("image", _("The signature must be a PNG or JPEG image."), "unsupported_image")
        image.load()
        # A canvas left empty is transparent or one colour; flatten onto white and look for ink.
        flat = image.convert("RGBA")
        background = Image.new("RGBA", flat.size, (255, 255, 255, 255))
        low, high = Image.alpha_composite(background, flat).convert("L").getextrema()
    image_file.seek(0)
    if high - low < 32:
        raise field_error("image", _("The signature is empty."), "empty")
    return kind


@transaction.atomic
def capture_signature(order: WorkOrder, *, actor: User, image_file, signer_name: str) -> Signature:
    """The customer signs on the engineer's phone to confirm the work."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    errors: dict[str, ValidationError] = {}
    signer_name = _text(signer_name, "signer_name", errors, limit=100)
    kind = None
    if not image_file:
        errors["image"] = ValidationError(_("The customer has not signed."), code="required")
    else:
        try:
            kind = _signature_format(image_file)
        except ValidationError as error:
            errors.update(error.error_dict)
    _raise_collected(errors)
    # The stored name (and so its content type) follows the checked content, not the upload's name.
    image_file.name = f"signature-{current.number}{SIGNATURE_FORMATS[kind]}"
    attachment = attach_file(current, actor=actor, file=image_file, kind=AttachmentKind.SIGNATURE)
    signature = Signature.objects.create(
        work_order=current, attachment=attachment, signer_name=signer_name, captured_by=actor
    )
    log_event(
        current,
        actor=actor,
        action=FieldAction.SIGNATURE_CAPTURED,
        note=signer_name,
        payload={"attachment": attachment.pk, "signature": signature.pk},
    )
    return signature


# Completion --------------------------------------------------------------------------------------------


def _apply_parts(order: WorkOrder, actor: User) -> None:
    """Bring the machine's fitted parts up to date with the parts used, and say so in its history."""
    if order.equipment_id is None:
        return
    usages = list(selectors.part_usages_of(order))
    if not usages:
        return
    equipment = order.equipment
    today = timezone.localdate()
    lines = []
    for usage in usages:
        new_serial = f" #{usage.new_serial}" if usage.new_serial else ""
        old = FittedPart.objects.filter(pk=usage.replaces_id).select_related("part").first()
        if old is not None:
            old_serial = f" #{old.part_serial_number}" if old.part_serial_number else ""
            replace_fitted_part(
                old,
                actor=actor,
                part=usage.part,
                quantity=usage.quantity,
                serial_number=usage.new_serial,
                fitted_on=today,
            )
            amount = usage.quantity.normalize()
            lines.append(f"{old.part.part_number}{old_serial} → {usage.part.part_number}{new_serial} ×{amount}")
        else:
            # A replaced part that is no longer fitted (removed meanwhile) still arrives as a replacement.
            add_fitted_part(
                equipment,
                actor=actor,
                part=usage.part,
                quantity=usage.quantity,
                serial_number=usage.new_serial,
                fitted_on=today,
                source=FittedPartSource.REPLACEMENT if usage.is_replacement else FittedPartSource.ADDED,
            )
            lines.append(f"+ {usage.part.part_number}{new_serial} ×{usage.quantity.normalize()}")
    record_event(
        equipment,
        actor=actor,
        action=PARTS_REPLACED,
        related=equipment.customer,
        note=f"{order.number}: " + "; ".join(lines),
    )


@transaction.atomic
def complete_visit(order: WorkOrder, *, actor: User) -> WorkOrder:
    """The work is done: needs the work recorded, every required job step answered, and the
    customer's signature (a remote fix needs no signature). Updates the machine's fitted parts
    and, after commit, e-mails the service report."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    if not current.resolution_type:
        raise DomainError("work_not_recorded", _("Record the work done before completing the visit."))
    open_steps = list(selectors.open_required_steps(current))
    if open_steps:
        raise DomainError(
            "steps_open",
            ngettext(
                "%(n)d required job step is not answered: %(steps)s.",
                "%(n)d required job steps are not answered: %(steps)s.",
                len(open_steps),
            )
            % {"n": len(open_steps), "steps": "; ".join(f"{step.position}. {step.title}" for step in open_steps[:5])},
        )
    if current.resolution_type != ResolutionType.REMOTE_FIX and selectors.signature_of(current) is None:
        raise DomainError("signature_required", _("The customer must sign before the visit is completed."))
    parts = current.part_usages.count()
    order = transition(current, Transition.COMPLETE, actor=actor, payload={"parts_used": parts})
    _apply_parts(order, actor)
    # The report goes out in the language the engineer worked in, through the outbox.
    emit("work_order.report_ready", {"work_order": order.pk, "language": translation.get_language()})
    return order


def send_service_report(order_pk: int, *, language: str | None = None) -> bool:
    """E-mail the service report PDF to the customer's contact, if there is an address. Runs in
    the worker (field.tasks.send_report) after the completion has committed, so a mail failure
    never undoes the visit; the task retries. Returns False when there is nobody to send to or
    the report went out already."""
    from fieldservice.field.report import render_service_report

    order = WorkOrder.objects.select_related("customer", "site__contact", "request__contact").get(pk=order_pk)
    if order.events.filter(action=FieldAction.REPORT_SENT).exists():
        return False
    address = selectors.report_email_of(order)
    if not address:
        return False
    with translation.override(language):
        pdf = render_service_report(order)
        message = EmailMessage(
            subject=_("Service report %(number)s") % {"number": order.number},
            body=_("Dear customer,\n\nthe service visit %(number)s is complete. The service report is attached.\n")
            % {"number": order.number},
            to=[address],
        )
        message.attach(f"service-report-{order.number}.pdf", pdf, "application/pdf")
        message.send()
    log_event(order, actor=None, action=FieldAction.REPORT_SENT, payload={"to": address})
    return True
