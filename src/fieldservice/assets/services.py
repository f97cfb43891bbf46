"""Business rules for product models, bills of materials and installed equipment."""

import calendar
import datetime as dt
import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from fieldservice.accounts.models import User
from fieldservice.assets.choices import OPERATING_HOURS, EquipmentStatus, FittedPartSource, MeterSource
from fieldservice.assets.models import (
    BomLine,
    Equipment,
    EquipmentDocument,
    FittedPart,
    MeterReading,
    ProductModel,
    new_public_token,
)
from fieldservice.assets.permissions import may_change_assets, may_change_models, may_fit_parts
from fieldservice.core.db import write_checked
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.uploads import check_document, check_image
from fieldservice.core.validation import check_date
from fieldservice.customers.models import Customer, Site
from fieldservice.inventory.models import Part

PRODUCT_MODEL_FIELDS = [
    "code",
    "name",
    "product_line",
    "default_warranty_months",
    "description",
    "image",
    "is_active",
]
EQUIPMENT_FIELDS = [
    "product_model",
    "serial_number",
    "lot_number",
    "customer",
    "site",
    "parent",
    "installed_on",
    "warranty_starts_on",
    "warranty_ends_on",
    "status",
]
IMAGE_LIMIT = 5 * 1024 * 1024
REASON_MAX_LENGTH = 300
# The stored type and extension come from the checked content, never from the uploaded name.
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", ".pdf"),
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "GIF": ("image/gif", ".gif"),
    "WEBP": ("image/webp", ".webp"),
}


def document_limit() -> int:
    """Manuals can be big; the deployment's upload ceiling is the limit."""
    return settings.FSM_MAX_UPLOAD_BYTES


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clipped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _check_product_model_fields(fields: dict, product_model: ProductModel | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "code":
            value = (value or "").strip().upper()
            if not value:
                raise field_error("code", _("This field is required."), "required")
            clash = ProductModel.objects.filter(code=value)
            if product_model is not None:
                clash = clash.exclude(pk=product_model.pk)
            if clash.exists():
                raise field_error("code", _("Model code %(code)s exists.") % {"code": value}, "duplicate")
        elif name == "name":
            value = (value or "").strip()
            if not value:
                raise field_error("name", _("This field is required."), "required")
        elif name in {"product_line", "description"}:
            value = (value or "").strip()
        elif name == "default_warranty_months":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise field_error(name, _("Enter a whole number of months."), "invalid") from None
            if not 0 <= value <= 120:
                raise field_error(name, _("The warranty must be 0 to 120 months."), "out_of_range")
        elif name == "image":
            if value:
                check_image(value, "image", IMAGE_LIMIT)
        elif name == "is_active":
            value = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    return cleaned


@transaction.atomic
def create_product_model(*, actor: User, code: str, name: str, **fields) -> ProductModel:
    require(may_change_models(actor))
    cleaned = _check_product_model_fields({"code": code, "name": name, **fields})
    product_model = ProductModel.objects.create(**cleaned)
    record_created(product_model, actor=actor, fields=PRODUCT_MODEL_FIELDS)
    return product_model


@transaction.atomic
def update_product_model(product_model: ProductModel, *, actor: User, **fields) -> ProductModel:
    require(may_change_models(actor))
    cleaned = _check_product_model_fields(fields, product_model)
    before = snapshot(product_model, PRODUCT_MODEL_FIELDS)
    for name, value in cleaned.items():
        setattr(product_model, name, value)
    product_model.save()
    record_updated(product_model, actor=actor, before=before)
    return product_model


def _quantity(value, field: str) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise field_error(field, _("Enter a number."), "invalid") from None
    if not quantity.is_finite() or quantity <= 0:
        raise field_error(field, _("The quantity must be more than zero."), "out_of_range")
    return quantity


@transaction.atomic
def set_bom(product_model: ProductModel, *, actor: User, lines: Iterable[tuple[Part, Decimal | int]]) -> list[BomLine]:
    """Replace the model's bill of materials. Machines already built keep their fitted parts."""
    require(may_change_models(actor))
    wanted: dict[int, tuple[Part, Decimal]] = {}
    for index, (part, quantity) in enumerate(lines):
        if part.pk in wanted:
            raise field_error("lines", _("Part %(part)s is listed twice.") % {"part": part.part_number}, "duplicate")
        if not part.is_active:
            message = _("Part %(part)s is no longer active.") % {"part": part.part_number}
            raise field_error(f"lines[{index}].part", message, "inactive")
        wanted[part.pk] = (part, _quantity(quantity, f"lines[{index}].quantity"))
    before = {
        line.part.part_number: str(line.quantity.normalize()) for line in product_model.bom_lines.select_related("part")
    }
    product_model.bom_lines.all().delete()
    created = BomLine.objects.bulk_create(
        [BomLine(product_model=product_model, part=part, quantity=qty) for part, qty in wanted.values()]
    )
    after = {part.part_number: str(qty.normalize()) for part, qty in wanted.values()}
    if before != after:
        record_event(product_model, actor=actor, action="bom_changed", changes={"bom": [before, after]})
    return created


def _check_equipment_links(
    *,
    customer: Customer,
    site: Site | None,
    parent: Equipment | None,
    equipment: Equipment | None,
    parent_is_new: bool = True,
) -> None:
    if site is not None and site.customer_id != customer.pk:
        raise field_error("site", _("The site belongs to another customer."), "invalid_choice")
    if equipment is not None and customer.pk != equipment.customer_id and equipment.modules.exists():
        raise field_error(
            "customer", _("This machine has modules; move or detach them before changing its customer."), "has_modules"
        )
    if parent is not None:
        # A machine already hanging under an invalidated one may stay; a new link may not.
        if parent_is_new and not parent.is_registered:
            raise field_error("parent", _("Only registered equipment can be chosen as the machine."), "invalid_choice")
        if parent.customer_id != customer.pk:
            raise field_error(
                "parent", _("A module must belong to the same customer as its machine."), "invalid_choice"
            )
        node = parent
        while node is not None:
            if equipment is not None and node.pk == equipment.pk:
                raise field_error("parent", _("A machine cannot be a module of itself."), "cycle")
            node = node.parent


def _check_dates(installed_on, starts_on, ends_on) -> None:
    check_date(installed_on, field="installed_on")
    check_date(starts_on, field="warranty_starts_on")
    check_date(ends_on, field="warranty_ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        raise field_error("warranty_ends_on", _("The warranty cannot end before it starts."), "invalid_range")
    if installed_on and installed_on > timezone.localdate() + dt.timedelta(days=366):
        raise field_error("installed_on", _("The installation date is too far in the future."), "out_of_range")


def _check_lot(lot_number: str) -> str:
    lot = (lot_number or "").strip()
    if len(lot) > 64:
        message = _("At most %(n)d characters.") % {"n": 64}
        raise field_error("lot_number", message, "max_length")
    return lot


def _check_serial(product_model: ProductModel, serial_number: str, equipment: Equipment | None = None) -> str:
    serial = (serial_number or "").strip()
    if not serial:
        raise field_error("serial_number", _("This field is required."), "required")
    if len(serial) > 64:
        raise field_error("serial_number", _("At most %(n)d characters.") % {"n": 64}, "max_length")
    clash = Equipment.objects.filter(product_model=product_model, serial_number=serial)
    if equipment is not None:
        clash = clash.exclude(pk=equipment.pk)
    if clash.exists():
        raise field_error(
            "serial_number",
            _("Serial number %(serial)s already exists for model %(model)s.")
            % {"serial": serial, "model": product_model.code},
            "duplicate",
        )
    return serial


@transaction.atomic
def register_equipment(
    *,
    actor: User,
    product_model: ProductModel,
    serial_number: str,
    customer: Customer,
    site: Site | None = None,
    lot_number: str = "",
    installed_on: dt.date | None = None,
    warranty_starts_on: dt.date | None = None,
    warranty_ends_on: dt.date | None = None,
    parent: Equipment | None = None,
) -> Equipment:
    """Register a machine at a customer. The warranty defaults from the install date and the
    model; the fitted parts start as the model's bill of materials."""
    require(may_change_assets(actor))
    serial = _check_serial(product_model, serial_number)
    _check_equipment_links(customer=customer, site=site, parent=parent, equipment=None)
    if warranty_starts_on is None:
        warranty_starts_on = installed_on
    if warranty_starts_on is not None and warranty_ends_on is None:
        warranty_ends_on = add_months(warranty_starts_on, product_model.default_warranty_months)
    _check_dates(installed_on, warranty_starts_on, warranty_ends_on)
    equipment = write_checked(
        lambda: Equipment.objects.create(
            product_model=product_model,
            serial_number=serial,
            lot_number=_check_lot(lot_number),
            customer=customer,
            site=site,
            parent=parent,
            installed_on=installed_on,
            warranty_starts_on=warranty_starts_on,
            warranty_ends_on=warranty_ends_on,
        ),
        recheck=lambda: _check_serial(product_model, serial),
    )
    FittedPart.objects.bulk_create(
        [
            FittedPart(
                equipment=equipment,
                part_id=line.part_id,
                quantity=line.quantity,
                fitted_on=installed_on,
                source=FittedPartSource.BOM,
            )
            for line in product_model.bom_lines.all()
        ]
    )
    record_created(equipment, actor=actor, fields=EQUIPMENT_FIELDS, related=customer)
    return equipment


@transaction.atomic
def update_equipment(equipment: Equipment, *, actor: User, **fields) -> Equipment:
    """Change a machine's details. Status has its own verbs (invalidate / reinstate)."""
    require(may_change_assets(actor))
    allowed = {
        "serial_number",
        "lot_number",
        "customer",
        "site",
        "parent",
        "installed_on",
        "warranty_starts_on",
        "warranty_ends_on",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise field_error(sorted(unknown)[0], _("This field cannot be changed here."), "unknown_field")
    if "serial_number" in fields:
        fields["serial_number"] = _check_serial(equipment.product_model, fields["serial_number"], equipment)
    if "lot_number" in fields:
        fields["lot_number"] = _check_lot(fields["lot_number"])
    customer = fields.get("customer", equipment.customer)
    site = fields.get("site", equipment.site if customer.pk == equipment.customer_id else None)
    parent = fields.get("parent", equipment.parent)
    _check_equipment_links(
        customer=customer,
        site=site,
        parent=parent,
        equipment=equipment,
        parent_is_new=parent is not None and parent.pk != equipment.parent_id,
    )
    _check_dates(
        fields.get("installed_on", equipment.installed_on),
        fields.get("warranty_starts_on", equipment.warranty_starts_on),
        fields.get("warranty_ends_on", equipment.warranty_ends_on),
    )
    before = snapshot(equipment, EQUIPMENT_FIELDS)
    for name, value in fields.items():
        setattr(equipment, name, value)
    equipment.site = site
    equipment.save()
    record_updated(equipment, actor=actor, before=before, related=equipment.customer)
    return equipment


@transaction.atomic
def invalidate_equipment(equipment: Equipment, *, actor: User, reason: str) -> Equipment:
    """Take a machine out of service (scrapped, sold on, registered by mistake)."""
    require(may_change_assets(actor))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why the equipment is invalidated."), "required")
    if len(reason) > REASON_MAX_LENGTH:
        raise field_error("reason", _("At most %(n)d characters.") % {"n": REASON_MAX_LENGTH}, "max_length")
    equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
    if equipment.status == EquipmentStatus.INVALIDATED:
        raise DomainError("already_invalidated", _("This equipment is already invalidated."))
    before = snapshot(equipment, ["status", "invalidated_reason"])
    equipment.status = EquipmentStatus.INVALIDATED
    equipment.invalidated_reason = reason
    equipment.save(update_fields=["status", "invalidated_reason"])
    record_updated(equipment, actor=actor, before=before, related=equipment.customer, note=reason)
    return equipment


@transaction.atomic
def reinstate_equipment(equipment: Equipment, *, actor: User) -> Equipment:
    require(may_change_assets(actor))
    equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
    if equipment.status == EquipmentStatus.REGISTERED:
        raise DomainError("already_registered", _("This equipment is already registered."))
    before = snapshot(equipment, ["status", "invalidated_reason"])
    equipment.status = EquipmentStatus.REGISTERED
    equipment.invalidated_reason = ""
    equipment.save(update_fields=["status", "invalidated_reason"])
    record_updated(equipment, actor=actor, before=before, related=equipment.customer)
    return equipment


@transaction.atomic
def renew_public_token(equipment: Equipment, *, actor: User) -> Equipment:
    """Issue a new QR token, e.g. after a label leaked; old labels stop working."""
    require(may_change_assets(actor))
    equipment.public_token = new_public_token()
    equipment.save(update_fields=["public_token"])
    record_event(equipment, actor=actor, action="qr_token_renewed", related=equipment.customer)
    return equipment


def _document_kind(upload) -> str:
    """What the (already checked) upload really is: "pdf" or a Pillow image format."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    with Image.open(upload) as image:
        kind = image.format
    upload.seek(0)
    return kind


@transaction.atomic
def add_equipment_document(equipment: Equipment, *, actor: User, title: str, file) -> EquipmentDocument:
    """Keep a PDF or an image with a machine (manual, drawing, certificate, photo)."""
    require(may_change_assets(actor))
    if not file:
        raise field_error("file", _("Choose a file."), "required")
    check_document(file, "file", document_limit())
    title = (title or "").strip() or os.path.splitext(os.path.basename(file.name or ""))[0]
    if not title:
        raise field_error("title", _("This field is required."), "required")
    if len(title) > 200:
        raise field_error("title", _("At most %(n)d characters.") % {"n": 200}, "max_length")
    content_type, extension = DOCUMENT_TYPES.get(_document_kind(file), ("application/octet-stream", ""))
    stem = os.path.splitext(os.path.basename(file.name or ""))[0] or "document"
    file.name = stem[:80] + extension
    document = EquipmentDocument.objects.create(
        equipment=equipment,
        title=title,
        file=file,
        content_type=content_type,
        size=file.size,
        uploaded_by=actor,
    )
    record_event(equipment, actor=actor, action="document_added", related=equipment.customer, note=title)
    return document


# Parts changed on a visit ------------------------------------------------------------------
# The field services call these when an engineer completes a visit; they change the rows only and
# the caller records one "parts_replaced" event for the whole visit on the machine's history.


def _check_part_serial(serial_number: str) -> str:
    serial = (serial_number or "").strip()
    if len(serial) > 64:
        raise field_error("serial_number", _("At most %(n)d characters.") % {"n": 64}, "max_length")
    return serial


@transaction.atomic
def add_fitted_part(
    equipment: Equipment,
    *,
    actor: User,
    part: Part,
    quantity,
    serial_number: str = "",
    fitted_on: dt.date | None = None,
    source: str = FittedPartSource.ADDED,
) -> FittedPart:
    """Fit a part to a machine (a part it did not have, or a replacement whose old part is gone)."""
    require(may_fit_parts(actor))
    if source not in FittedPartSource.values:
        raise field_error("source", _("Unknown source."), "invalid_choice")
    return FittedPart.objects.create(
        equipment=equipment,
        part=part,
        quantity=_quantity(quantity, "quantity"),
        part_serial_number=_check_part_serial(serial_number),
        fitted_on=fitted_on or timezone.localdate(),
        source=source,
    )


@transaction.atomic
def replace_fitted_part(
    fitted: FittedPart,
    *,
    actor: User,
    part: Part,
    quantity,
    serial_number: str = "",
    fitted_on: dt.date | None = None,
) -> FittedPart:
    """Take `quantity` of a fitted part out (the whole row when that is all of it) and fit `part`
    in its place as a replacement. Returns the new fitted part."""
    require(may_fit_parts(actor))
    quantity = _quantity(quantity, "quantity")
    serial = _check_part_serial(serial_number)
    fitted = FittedPart.objects.select_for_update().get(pk=fitted.pk)
    if quantity >= fitted.quantity:
        fitted.delete()
    else:
        fitted.quantity -= quantity
        fitted.save(update_fields=["quantity"])
    return FittedPart.objects.create(
        equipment_id=fitted.equipment_id,
        part=part,
        quantity=quantity,
        part_serial_number=serial,
        fitted_on=fitted_on or timezone.localdate(),
        source=FittedPartSource.REPLACEMENT,
    )


METER_NAME_LIMIT = 40


def last_reading(equipment: Equipment, meter: str = OPERATING_HOURS) -> MeterReading | None:
    return equipment.meter_readings.filter(meter=meter).order_by("-read_at", "-pk").first()


def _reading_values(reading: MeterReading) -> dict:
    return {"when": timezone.localtime(reading.read_at).strftime("%Y-%m-%d %H:%M"), "value": reading.value.normalize()}


@transaction.atomic
def record_meter_reading(
    equipment: Equipment,
    *,
    actor: User | None,
    value,
    source: str,
    meter: str = OPERATING_HOURS,
    unit: str = "",
    read_at: dt.datetime | None = None,
    note: str = "",
) -> MeterReading:
    """Store one reading of a machine's counter. The caller has scoped `equipment` to what the
    actor may see (the engineer's order, the customer's own machine, the QR token); a reading
    without an actor comes only from the customer's QR page or a connected machine. Counters only
    go up: a value below an earlier reading, or a time in the future, is refused."""
    if source not in MeterSource.values:
        raise field_error("source", _("Unknown source."), "invalid_choice")
    if actor is None and source not in (MeterSource.CUSTOMER, MeterSource.IOT):
        raise DomainError("forbidden", _("You may not do this."))
    meter = (meter or "").strip()
    if not meter:
        raise field_error("meter", _("This field is required."), "required")
    if len(meter) > METER_NAME_LIMIT:
        raise field_error("meter", _("At most %(n)d characters.") % {"n": METER_NAME_LIMIT}, "max_length")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error("value", _("Enter a number."), "invalid") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise field_error("value", _("Enter a number between 0 and 999,999,999,999."), "out_of_range")
    now = timezone.now()
    read_at = read_at or now
    if read_at > now + dt.timedelta(minutes=5):
        raise field_error("read_at", _("A reading cannot be in the future."), "in_future")
    check_date(read_at, field="read_at")
    # Lock the machine so two readings entered at once are checked against each other.
    Equipment.objects.select_for_update().filter(pk=equipment.pk).first()
    earlier = equipment.meter_readings.filter(meter=meter, read_at__lte=read_at).order_by("-read_at", "-pk").first()
    if earlier is not None and amount < earlier.value:
        raise field_error(
            "value",
            _("A counter only goes up: the reading of %(when)s was %(value)s.")
            % {
                "when": timezone.localtime(earlier.read_at).strftime("%Y-%m-%d %H:%M"),
                "value": earlier.value.normalize(),
            },
            "below_previous",
        )
    later = equipment.meter_readings.filter(meter=meter, read_at__gt=read_at).order_by("read_at", "pk").first()
    if later is not None and amount > later.value:
        raise field_error(
            "value",
            _("A counter only goes up: the later reading of %(when)s was %(value)s.") % _reading_values(later),
            "above_next",
        )
    return MeterReading.objects.create(
        equipment=equipment,
        meter=meter,
        value=amount.quantize(Decimal("0.01")),
        unit=(unit or "").strip()[:20],
        read_at=read_at,
        source=source,
        recorded_by=actor,
        note=(note or "").strip()[:300],
    )
