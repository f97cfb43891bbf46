"""Quotations (服务报价) for chargeable work.

A quotation belongs to one work order. Writing it makes version 1; every revision makes a new
version and the old ones stay readable by number. The customer approves or declines one version:
through the follow link (no user, the follow token is the key), signed on the engineer's phone, or
recorded by the office. Only the current version of a quotation that is still open and valid can be
decided; approval turns its lines into the order's fee lines. A sent quotation past its date
expires by the periodic check (`expire_quotations`).

Line specs are dicts: kind, description, part (a Part or its id), quantity, unit, unit_price,
discount, and optionally unit_cost. An empty unit_price is taken from the price list: the order's
contract's list, else the default list.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.billing.choices import DecisionChannel, FeeKind, FeeSource, QuotationStatus
from fieldservice.billing.models import FeeLine, Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.permissions import (
    is_customer_of,
    is_engineer_on,
    may_manage_billing,
    may_see_costs,
    may_write_quotation,
)
from fieldservice.billing.services import fees, pricing
from fieldservice.billing.services.fees import price_list_of
from fieldservice.billing.services.numbers import next_number
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceList
from fieldservice.contracts.services import price_of
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event
from fieldservice.core.money import DEFAULT_CURRENCY, MONEY_MAX, cents, parse_money
from fieldservice.core.uploads import check_image
from fieldservice.core.validation import check_date
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import AttachmentKind, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import attach_file

ZERO = Decimal("0")
MAX_LINES = 200
MAX_QUANTITY = Decimal("100000")
QUANTITY_STEP = Decimal("0.001")
SIGNATURE_LIMIT = 1024 * 1024
OPEN_STATUSES = frozenset({QuotationStatus.DRAFT, QuotationStatus.SENT})
# Orders a quotation can no longer be written for.
ORDER_DONE = frozenset({WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED})
DEFAULT_UNITS = {FeeKind.LABOUR: "h", FeeKind.TRAVEL: "km"}
LINE_KEYS = frozenset({"kind", "description", "part", "quantity", "unit", "unit_price", "discount", "unit_cost"})


# Prices ------------------------------------------------------------------------------------------


def engineer_level_of(order: WorkOrder) -> str:
    """The level of the order's lead engineer ("" when nobody leads it yet)."""
    lead = (
        Assignment.objects.filter(work_order=order, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .values_list("engineer_id", flat=True)
        .first()
    )
    if lead is None:
        return ""
    return EngineerProfile.objects.filter(user_id=lead).values_list("level", flat=True).first() or ""


# A quotation line's kind, as the price list names it.
PRICE_KIND = {
    FeeKind.PART: PriceItemKind.PART,
    FeeKind.LABOUR: PriceItemKind.LABOUR_HOUR,
    FeeKind.TRAVEL: PriceItemKind.TRAVEL_KM,
    FeeKind.SERVICE: PriceItemKind.SERVICE,
}


def _price_of(price_list: PriceList | None, kind: str, *, part=None, name="", service_type="", level=""):
    """The list's price of a quotation line (contracts' `price_of`: the most specific that fits)."""
    if kind not in PRICE_KIND or (kind == FeeKind.PART and part is None) or (kind == FeeKind.SERVICE and not name):
        return None
    item = price_of(price_list, PRICE_KIND[kind], part=part, service_type=service_type, engineer_level=level, name=name)
    return item.unit_price if item is not None else None


# Checking and pricing the lines -------------------------------------------------------------------


@dataclass
class Priced:
    """The checked lines of a version and its totals (nothing saved)."""

    lines: list[dict] = field(default_factory=list)
    currency: str = DEFAULT_CURRENCY
    tax_rate: Decimal = ZERO
    subtotal: Decimal = ZERO
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.subtotal - self.discount - self.cost


def _quantity(value, name: str) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise field_error(name, _("This field is required."), "required")
    if isinstance(value, bool):
        raise field_error(name, _("Enter a number such as 1 or 2.5."), "invalid")
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(name, _("Enter a number such as 1 or 2.5."), "invalid") from None
    if not quantity.is_finite():
        raise field_error(name, _("Enter a number such as 1 or 2.5."), "invalid")
    if quantity <= 0:
        raise field_error(name, _("The quantity must be more than zero."), "not_positive")
    if quantity > MAX_QUANTITY or quantity != quantity.quantize(QUANTITY_STEP):
        raise field_error(
            name, _("At most %(max)s, with at most 3 decimals.") % {"max": f"{MAX_QUANTITY:,.0f}"}, "invalid"
        )
    return quantity


def _tax_rate(value) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise field_error("tax_rate", _("This field is required."), "required")
    try:
        rate = Decimal(str(value).strip()) if not isinstance(value, bool) else None
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite():
        raise field_error("tax_rate", _("Enter a percentage such as 13."), "invalid")
    if not ZERO <= rate <= 100:
        raise field_error("tax_rate", _("The tax rate must be between 0 and 100 %."), "out_of_range")
    if rate != rate.quantize(Decimal("0.01")):
        raise field_error("tax_rate", _("At most 2 decimals."), "invalid")
    return rate


def _valid_until(value) -> dt.date:
    if value in (None, ""):
        raise field_error("valid_until", _("This field is required."), "required")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise field_error("valid_until", _("Enter a date such as 2026-12-31."), "invalid") from None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        raise field_error("valid_until", _("Enter a date such as 2026-12-31."), "invalid")
    check_date(value, field="valid_until")
    if value < timezone.localdate():
        raise field_error("valid_until", _("The quotation cannot be valid only until a day in the past."), "past")
    return value


def _text(value, name: str, limit: int, *, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise field_error(name, _("Enter text."), "invalid")
    text = (value or "").strip()
    if "\x00" in text:
        raise field_error(name, _("Enter text."), "invalid")
    if required and not text:
        raise field_error(name, _("This field is required."), "required")
    if len(text) > limit:
        raise field_error(
            name,
            _("Ensure this value has at most %(limit)d characters (it has %(length)d).")
            % {"limit": limit, "length": len(text)},
            "max_length",
        )
    return text


def _part(value, name: str) -> Part | None:
    if value in (None, ""):
        return None
    if isinstance(value, Part):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        part = Part.objects.filter(pk=value).first()
        if part is not None:
            return part
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        part = Part.objects.filter(pk=int(value.strip())).first() if len(value.strip()) < 10 else None
        if part is not None:
            return part
    raise field_error(name, _("Unknown part."), "does_not_exist")


def _typed_costs_of(actor: User, lines):
    """The line specs as `actor` may write them: a cost typed by someone who may not see our costs
    (a partner's engineer) is dropped, and the line's default cost counts."""
    if may_see_costs(actor) or getattr(actor, "is_own_staff", False) or not isinstance(lines, list | tuple):
        return lines
    return [{k: v for k, v in line.items() if k != "unit_cost"} if isinstance(line, dict) else line for line in lines]


def price_lines(order: WorkOrder, lines, tax_rate) -> Priced:
    """Check and price the line specs of a version; raise a field error naming `lines[i].field`.
    Used to save a version and to show the author the figures before saving."""
    if not isinstance(lines, list | tuple) or not lines:
        raise field_error("lines", _("Add at least one line."), "required")
    if len(lines) > MAX_LINES:
        raise field_error("lines", _("At most %(n)d lines.") % {"n": MAX_LINES}, "too_many")
    rate = _tax_rate(tax_rate)
    price_list = price_list_of(order)
    level = None
    priced = Priced(currency=price_list.currency if price_list else DEFAULT_CURRENCY, tax_rate=rate)
    for index, spec in enumerate(lines):
        prefix = f"lines[{index}]"
        if not isinstance(spec, dict):
            raise field_error(prefix, _("A line is a set of fields."), "invalid")
        unknown = sorted(set(spec) - LINE_KEYS)
        if unknown:
            raise field_error(f"{prefix}.{unknown[0]}", _("This field cannot be set here."), "unknown_field")
        kind = spec.get("kind")
        if kind not in FeeKind.values:
            raise field_error(f"{prefix}.kind", _("Choose the kind of line."), "invalid_choice")
        part = _part(spec.get("part"), f"{prefix}.part")
        if kind == FeeKind.PART and part is None:
            raise field_error(f"{prefix}.part", _("Choose the part."), "required")
        if kind != FeeKind.PART and part is not None:
            raise field_error(f"{prefix}.part", _("Only a part line names a part."), "invalid")
        description = _text(spec.get("description"), f"{prefix}.description", 200)
        if not description:
            description = part.name if part is not None else ""
        if not description:
            raise field_error(f"{prefix}.description", _("This field is required."), "required")
        quantity = _quantity(spec.get("quantity"), f"{prefix}.quantity")
        unit = _text(spec.get("unit"), f"{prefix}.unit", 10) or (part.unit if part else DEFAULT_UNITS.get(kind, ""))
        unit_price = parse_money(spec.get("unit_price"), f"{prefix}.unit_price")
        if unit_price is None:
            if level is None:
                level = engineer_level_of(order)
            unit_price = _price_of(
                price_list, kind, part=part, name=description, service_type=order.service_type, level=level or ""
            )
            if unit_price is None:
                raise field_error(
                    f"{prefix}.unit_price", _("This item has no price on the price list; enter one."), "required"
                )
        discount = parse_money(spec.get("discount"), f"{prefix}.discount") or ZERO
        gross = cents(quantity * unit_price)
        if gross > MONEY_MAX:
            raise field_error(f"{prefix}.quantity", _("The line comes to more than any amount can be."), "too_large")
        if discount > gross:
            raise field_error(
                f"{prefix}.discount",
                _("The discount cannot be more than the line (%(gross)s).") % {"gross": gross},
                "above_line",
            )
        typed_cost = parse_money(spec.get("unit_cost"), f"{prefix}.unit_cost")
        if part is not None:
            unit_cost = part.average_cost or ZERO
        elif typed_cost is not None:
            unit_cost = typed_cost
        elif kind == FeeKind.LABOUR:
            # The estimated profit counts our own hour as the pricing of the visit does.
            if level is None:
                level = engineer_level_of(order)
            unit_cost = pricing.labour_cost_per_hour(level or "regular")
        elif kind == FeeKind.TRAVEL:
            unit_cost = pricing.travel_cost_per_km()
        else:
            unit_cost = ZERO
        cost = cents(quantity * unit_cost)
        if cost > MONEY_MAX:
            raise field_error(f"{prefix}.unit_cost", _("The line comes to more than any amount can be."), "too_large")
        priced.lines.append(
            {
                "position": index,
                "kind": kind,
                "description": description,
                "part": part,
                "quantity": quantity,
                "unit": unit,
                "unit_price": unit_price,
                "discount": discount,
                "amount": gross - discount,
                "unit_cost": unit_cost,
                "cost": cost,
            }
        )
        priced.subtotal += gross
        priced.discount += discount
        priced.cost += cost
    priced.tax = cents((priced.subtotal - priced.discount) * rate / 100)
    priced.total = priced.subtotal - priced.discount + priced.tax
    if priced.total > MONEY_MAX or priced.subtotal > MONEY_MAX or priced.cost > MONEY_MAX:
        raise field_error("lines", _("The quotation comes to more than any amount can be."), "too_large")
    return priced


# Writing versions ---------------------------------------------------------------------------------


def _write_version(quotation: Quotation, number: int, priced: Priced, *, actor, valid_until, note) -> QuotationVersion:
    version = QuotationVersion.objects.create(
        quotation=quotation,
        number=number,
        valid_until=valid_until,
        tax_rate=priced.tax_rate,
        note=note,
        subtotal=priced.subtotal,
        discount=priced.discount,
        tax=priced.tax,
        total=priced.total,
        cost=priced.cost,
        created_by=actor,
    )
    QuotationLine.objects.bulk_create(QuotationLine(version=version, **line) for line in priced.lines)
    return version


def _version_summary(version: QuotationVersion, line_count: int) -> dict:
    return {
        "version": version.number,
        "valid_until": version.valid_until.isoformat(),
        "tax_rate": str(version.tax_rate),
        "total": str(version.total),
        "lines": line_count,
    }


def _check_order(order: WorkOrder) -> None:
    if order.status in ORDER_DONE:
        raise DomainError(
            "order_finished",
            _("Work order %(number)s is %(status)s; it takes no quotation.")
            % {"number": order.number, "status": order.get_status_display()},
        )


@transaction.atomic
def create_quotation(order: WorkOrder, *, actor: User, lines, valid_until, tax_rate, note: str = "") -> Quotation:
    """A new quotation (version 1, draft) for the order's chargeable work."""
    require(may_write_quotation(actor, order))
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    _check_order(order)
    valid_until = _valid_until(valid_until)
    note = _text(note, "note", 5000)
    priced = price_lines(order, _typed_costs_of(actor, lines), tax_rate)
    open_one = Quotation.objects.filter(work_order=order, status__in=OPEN_STATUSES).first()
    if open_one is not None:
        raise DomainError(
            "quotation_open",
            _("Work order %(order)s already has quotation %(number)s open; revise it instead.")
            % {"order": order.number, "number": open_one.number},
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                quotation = Quotation.objects.create(
                    number=next_number(Quotation, "quotation"),
                    work_order=order,
                    customer_id=order.customer_id,
                    currency=priced.currency,
                    valid_until=valid_until,
                    total=priced.total,
                    created_by=actor,
                )
            break
        except IntegrityError:
            continue  # another writer took the number; take the next one
    else:
        raise DomainError("number_taken", _("Could not number the quotation; try again."))
    version = _write_version(quotation, 1, priced, actor=actor, valid_until=valid_until, note=note)
    record_created(
        quotation, actor=actor, fields=["number", "work_order", "status", "valid_until", "total"], related=order
    )
    record_event(
        version,
        actor=actor,
        action="created",
        changes={key: [None, value] for key, value in _version_summary(version, len(priced.lines)).items()},
        related=quotation,
    )
    return quotation


def _lock(quotation: Quotation) -> Quotation:
    return Quotation.objects.select_for_update().select_related("work_order").get(pk=quotation.pk)


def _refuse_closed(quotation: Quotation) -> None:
    """A decided, voided or expired quotation changes no more."""
    reasons = {
        QuotationStatus.APPROVED: ("quotation_approved", _("Quotation %(number)s has been approved already.")),
        QuotationStatus.DECLINED: ("quotation_declined", _("Quotation %(number)s has been declined.")),
        QuotationStatus.VOID: ("quotation_void", _("Quotation %(number)s has been voided.")),
        QuotationStatus.EXPIRED: ("quotation_expired", _("Quotation %(number)s has expired.")),
    }
    if quotation.status in reasons:
        code, message = reasons[quotation.status]
        raise DomainError(code, message % {"number": quotation.number})


@transaction.atomic
def revise_quotation(
    quotation: Quotation, *, actor: User, lines, valid_until, tax_rate, note: str = ""
) -> QuotationVersion:
    """A new version of a draft or sent quotation; the earlier versions stay as they were. A sent
    quotation stays sent: the customer now sees the new version, and the old one can no longer be
    approved."""
    require(may_write_quotation(actor, quotation.work_order))
    current = _lock(quotation)
    _refuse_closed(current)
    _check_order(current.work_order)
    valid_until = _valid_until(valid_until)
    note = _text(note, "note", 5000)
    priced = price_lines(current.work_order, _typed_costs_of(actor, lines), tax_rate)
    before = {"version": current.version, "valid_until": current.valid_until.isoformat(), "total": str(current.total)}
    version = _write_version(current, current.version + 1, priced, actor=actor, valid_until=valid_until, note=note)
    current.version = version.number
    current.valid_until = valid_until
    current.total = priced.total
    current.currency = priced.currency
    current.save(update_fields=["version", "valid_until", "total", "currency", "updated_at"])
    after = {"version": current.version, "valid_until": valid_until.isoformat(), "total": str(current.total)}
    record_event(
        current,
        actor=actor,
        action="quotation_revised",
        changes={key: [before[key], after[key]] for key in after if before[key] != after[key]},
        related=current.work_order,
        note=note[:500],
    )
    quotation.refresh_from_db()
    return version


@transaction.atomic
def send_quotation(quotation: Quotation, *, actor: User) -> Quotation:
    """Draft → sent: the customer sees it on the follow link and may decide."""
    require(may_write_quotation(actor, quotation.work_order))
    current = _lock(quotation)
    _refuse_closed(current)
    if current.status != QuotationStatus.DRAFT:
        raise DomainError(
            "quotation_sent", _("Quotation %(number)s has been sent already.") % {"number": current.number}
        )
    if current.valid_until < timezone.localdate():
        raise DomainError(
            "quotation_expired",
            _("Quotation %(number)s was valid until %(date)s; revise it with a new date before sending.")
            % {"number": current.number, "date": current.valid_until.isoformat()},
        )
    current.status = QuotationStatus.SENT
    current.save(update_fields=["status", "updated_at"])
    record_event(
        current,
        actor=actor,
        action="quotation_sent",
        changes={"status": [str(QuotationStatus.DRAFT.label), str(QuotationStatus.SENT.label)]},
        related=current.work_order,
    )
    quotation.refresh_from_db()
    return current


def _check_decider(quotation: Quotation, actor, channel: str, follow_token: str) -> None:
    """Who may decide for the customer, by channel."""
    if channel not in DecisionChannel.values:
        raise field_error("channel", _("Unknown way of deciding."), "invalid_choice")
    if channel == DecisionChannel.FOLLOW_LINK:
        # No user: the follow token of the order's request is the key.
        expected = quotation.work_order.request.follow_token
        require(bool(follow_token) and hmac.compare_digest(str(follow_token), expected))
    elif channel == DecisionChannel.PHONE:
        require(actor is not None and is_engineer_on(actor, quotation.work_order))
    elif channel == DecisionChannel.DESK:
        require(actor is not None and may_manage_billing(actor))
    else:  # the API: the customer's own users, or the office
        require(actor is not None and (is_customer_of(actor, quotation.customer) or may_manage_billing(actor)))


def _check_decidable(quotation: Quotation, version: int, channel: str) -> None:
    _refuse_closed(quotation)
    if quotation.status == QuotationStatus.DRAFT and channel in (DecisionChannel.FOLLOW_LINK, DecisionChannel.API):
        # The office and the engineer may have the customer decide on the spot; the customer's
        # own channels only see a sent quotation.
        raise DomainError(
            "quotation_not_sent", _("Quotation %(number)s has not been sent yet.") % {"number": quotation.number}
        )
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise field_error("version", _("Enter a version number."), "invalid") from None
    if number != quotation.version:
        raise DomainError(
            "quotation_replaced",
            _("Version %(old)s of quotation %(number)s has been replaced by version %(new)s; decide on the new one.")
            % {"old": number, "number": quotation.number, "new": quotation.version},
        )
    if quotation.valid_until < timezone.localdate():
        raise DomainError(
            "quotation_expired",
            _("Quotation %(number)s was valid until %(date)s.")
            % {"number": quotation.number, "date": quotation.valid_until.isoformat()},
        )


def _signature_image(image_file) -> None:
    """A PNG or JPEG with ink on it (a blank pad is no signature)."""
    if not image_file:
        raise field_error("signature", _("The customer has not signed."), "required")
    check_image(image_file, "signature", SIGNATURE_LIMIT)
    image_file.seek(0)
    try:
        with Image.open(image_file) as image:
            if image.format not in ("PNG", "JPEG"):
                raise field_error("signature", _("The signature must be a PNG or JPEG image."), "unsupported_image")
            image.load()
            flat = image.convert("RGBA")
            background = Image.new("RGBA", flat.size, (255, 255, 255, 255))
            low, high = Image.alpha_composite(background, flat).convert("L").getextrema()
    except (OSError, ValueError):
        raise field_error("signature", _("The signature could not be read."), "invalid") from None
    image_file.seek(0)
    if high - low < 32:
        raise field_error("signature", _("The signature is empty."), "empty")


def _decision(actor) -> User | None:
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def approve_quotation(
    quotation: Quotation,
    *,
    version,
    actor: User | None = None,
    channel: str,
    signer_name: str = "",
    signature=None,
    follow_token: str = "",
) -> Quotation:
    """The customer approves `version` (it must be the current one, open and still valid): its
    lines become the order's fee lines, paid by the customer."""
    current = _lock(quotation)
    _check_decider(current, actor, channel, follow_token)
    _check_decidable(current, version, channel)
    # A closed order's fee lines are frozen; a cancelled one has no work to charge.
    _check_order(current.work_order)
    signer_name = _text(signer_name, "signer_name", 100, required=channel == DecisionChannel.PHONE)
    attachment = None
    if channel == DecisionChannel.PHONE:
        _signature_image(signature)
        attachment = attach_file(current.work_order, actor=actor, file=signature, kind=AttachmentKind.SIGNATURE)
    elif signature is not None:
        raise field_error("signature", _("Only a signature on the engineer's phone is stored."), "invalid")
    before = current.get_status_display()
    current.status = QuotationStatus.APPROVED
    current.decided_at = timezone.now()
    current.decided_by = _decision(actor)
    current.decided_via = channel
    current.decided_version = current.version
    current.signer_name = signer_name
    current.signature = attachment
    current.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decided_via",
            "decided_version",
            "signer_name",
            "signature",
            "updated_at",
        ]
    )
    approved = current.versions.get(number=current.version)
    _fee_lines_from(approved, _decision(actor))
    record_event(
        current,
        actor=_decision(actor),
        action="quotation_approved",
        changes={
            "status": [before, current.get_status_display()],
            "version": [None, current.version],
            "decided_via": [None, current.get_decided_via_display()],
            "total": [None, str(approved.total)],
        },
        related=current.work_order,
        note=signer_name,
    )
    quotation.refresh_from_db()
    return current


@transaction.atomic
def decline_quotation(
    quotation: Quotation,
    *,
    version,
    reason: str,
    actor: User | None = None,
    channel: str,
    follow_token: str = "",
) -> Quotation:
    """The customer declines `version`, with a reason; nothing is charged."""
    current = _lock(quotation)
    _check_decider(current, actor, channel, follow_token)
    _check_decidable(current, version, channel)
    reason = _text(reason, "reason", 500, required=True)
    before = current.get_status_display()
    current.status = QuotationStatus.DECLINED
    current.decided_at = timezone.now()
    current.decided_by = _decision(actor)
    current.decided_via = channel
    current.decided_version = current.version
    current.decline_reason = reason
    current.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decided_via",
            "decided_version",
            "decline_reason",
            "updated_at",
        ]
    )
    record_event(
        current,
        actor=_decision(actor),
        action="quotation_declined",
        changes={
            "status": [before, current.get_status_display()],
            "version": [None, current.version],
            "decided_via": [None, current.get_decided_via_display()],
            "decline_reason": [None, reason],
        },
        related=current.work_order,
        note=reason,
    )
    quotation.refresh_from_db()
    return current


@transaction.atomic
def void_quotation(quotation: Quotation, *, actor: User, reason: str) -> Quotation:
    """Withdraw an open quotation (draft or sent), with a reason."""
    require(may_write_quotation(actor, quotation.work_order))
    current = _lock(quotation)
    _refuse_closed(current)
    reason = _text(reason, "reason", 500, required=True)
    before = current.get_status_display()
    current.status = QuotationStatus.VOID
    current.void_reason = reason
    current.save(update_fields=["status", "void_reason", "updated_at"])
    record_event(
        current,
        actor=actor,
        action="quotation_voided",
        changes={"status": [before, current.get_status_display()], "void_reason": [None, reason]},
        related=current.work_order,
        note=reason,
    )
    quotation.refresh_from_db()
    return current


def expire_quotations(today: dt.date | None = None) -> dict:
    """The periodic check: every sent quotation past its date becomes expired. Computed from the
    rows, so running it twice expires nothing twice."""
    today = today or timezone.localdate()
    expired = 0
    due = list(
        Quotation.objects.filter(status=QuotationStatus.SENT, valid_until__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in due:
        with transaction.atomic():
            # Compare-and-set: a quotation approved meanwhile is left alone.
            changed = Quotation.objects.filter(pk=pk, status=QuotationStatus.SENT, valid_until__lt=today).update(
                status=QuotationStatus.EXPIRED, updated_at=timezone.now()
            )
            if changed != 1:
                continue
            quotation = Quotation.objects.select_related("work_order").get(pk=pk)
            record_event(
                quotation,
                actor=None,
                action="quotation_expired",
                changes={"status": [str(QuotationStatus.SENT.label), str(QuotationStatus.EXPIRED.label)]},
                related=quotation.work_order,
            )
            expired += 1
    return {"expired": expired}


# Fee lines ------------------------------------------------------------------------------------------


def _fee_lines_from(version: QuotationVersion, actor: User | None) -> list[FeeLine]:
    """The approved version's lines become the order's fee lines, paid by the customer, through
    the one writer of fee lines."""
    quotation = version.quotation
    specs = [
        fees.FeeSpec(
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            discount=line.discount,
            unit_cost=line.unit_cost,
            part=line.part,
            tax_rate=version.tax_rate,
        )
        for line in version.lines.select_related("part").order_by("position", "pk")
    ]
    return fees.add_lines(quotation.work_order, specs, actor=actor, source=FeeSource.QUOTATION, quotation=quotation)
