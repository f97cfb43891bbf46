"""Fee lines of a work order: what it is worth, what it cost us, and who pays each line.

- `payer_for(order, kind, part)`: the order's entitlement decides, line by line, whether the
  customer pays or warranty or the contract covers it, and says why.
- `billing.services.pricing`: the lines priced from the visit itself (source "auto").
- `add_lines(order, specs, actor=..., source=...)`: the one writer of new lines (the engineer on
  the phone, the back office, an approved quotation, the pricing); `add_fee_line` for one line,
  `correct_fee_line` and `void_fee_line` for the back office.

An order that is closed and settled (its bill issued, paid or written off, or its settlement line
in an approved or settled statement) is frozen: every change is refused. Every change writes an
event and refreshes the order's margin row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.billing.choices import BillStatus, FeeKind, FeeSource, Payer, StatementStatus
from fieldservice.billing.models import Bill, FeeLine, StatementLine
from fieldservice.billing.permissions import may_manage_billing
from fieldservice.billing.services import margins
from fieldservice.contracts.choices import Entitlement, PartsCoverage
from fieldservice.contracts.models import PriceList
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_event
from fieldservice.core.money import CENT, DEFAULT_CURRENCY, MONEY_MAX, cents, parse_money
from fieldservice.core.uploads import check_image
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field.models import PartUsage
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import AttachmentKind, WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder
from fieldservice.workorders.services.intake import PHOTO_LIMIT, attach_file

ZERO = Decimal("0")
# Above these a line is a typing slip, not a price: a 4xx naming the field.
MAX_QUANTITY = Decimal("10000")
# Orders whose status no longer takes lines from the engineer.
ENGINEER_CLOSED = frozenset({WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED, WorkOrderStatus.REJECTED})
SETTLED_BILL = frozenset({BillStatus.ISSUED, BillStatus.PARTLY_PAID, BillStatus.PAID, BillStatus.WRITTEN_OFF})
SETTLED_STATEMENT = frozenset({StatementStatus.APPROVED, StatementStatus.SETTLED})
# What an engineer may add on the phone: a cost he paid (with its receipt) or a service item.
ENGINEER_KINDS = frozenset({FeeKind.OTHER, FeeKind.SERVICE})
CORRECTABLE = ("description", "quantity", "unit", "unit_price", "discount", "unit_cost", "payer", "payer_reason")
LINE_FIELDS = ["kind", "description", "quantity", "unit", "unit_price", "discount", "amount", "unit_cost", "cost"]
LINE_FIELDS += ["currency", "payer", "payer_reason", "source"]
# The slots of the lines priced from the visit: one labour, one call-out, one travel line, and a
# line per part used (by its PartUsage).
CALL_OUT = "call_out"


# -- who pays ------------------------------------------------------------------------------------


def payer_for(order: WorkOrder, kind: str, part: Part | None = None) -> tuple[str, str]:
    """(payer, reason) of a line of `kind` on `order`, from the entitlement the order kept."""
    if order.entitlement == Entitlement.WARRANTY:
        ends = order.equipment.warranty_ends_on if order.equipment_id and order.equipment else None
        if ends is not None:
            return Payer.WARRANTY, _("In warranty until %(date)s") % {"date": ends.isoformat()}
        return Payer.WARRANTY, _("In warranty")
    contract = order.contract if order.contract_id else None
    if order.entitlement == Entitlement.CONTRACT and contract is not None:
        number = {"number": contract.number}
        if kind == FeeKind.LABOUR:
            if contract.labour_covered:
                return Payer.CONTRACT, _("Labour is covered by contract %(number)s") % number
            return Payer.CUSTOMER, _("Contract %(number)s does not cover labour") % number
        if kind == FeeKind.PART:
            if contract.parts_coverage == PartsCoverage.ALL:
                return Payer.CONTRACT, _("Parts are covered by contract %(number)s") % number
            if contract.parts_coverage == PartsCoverage.WEAR_EXCLUDED:
                # The catalogue does not mark wear parts, so no part can be told apart as one.
                return Payer.CUSTOMER, _(
                    "Contract %(number)s covers parts except wear parts; the catalogue does not mark "
                    "wear parts, so parts are charged"
                ) % number
            return Payer.CUSTOMER, _("Contract %(number)s does not cover parts") % number
        if kind == FeeKind.TRAVEL:
            return Payer.CONTRACT, _("Travel is covered by contract %(number)s") % number
        if kind == FeeKind.SERVICE:
            return Payer.CONTRACT, _("The visit is covered by contract %(number)s") % number
        return Payer.CONTRACT, _("An internal cost of a visit under contract %(number)s") % number
    reason = order.entitlement_reason or _("No warranty or contract covers this visit")
    return Payer.CUSTOMER, _("Chargeable: %(reason)s") % {"reason": reason}


# -- frozen orders -------------------------------------------------------------------------------


def is_frozen(order: WorkOrder) -> bool:
    """Closed and settled: the bill issued (paid, written off), or the settlement approved."""
    if order.status != WorkOrderStatus.CLOSED:
        return False
    if Bill.objects.filter(work_order_id=order.pk, status__in=SETTLED_BILL).exists():
        return True
    return StatementLine.objects.filter(work_order_id=order.pk, statement__status__in=SETTLED_STATEMENT).exists()


def _frozen_ids(order_ids: Iterable[int]) -> set[int]:
    closed = set(
        WorkOrder.objects.filter(pk__in=list(order_ids), status=WorkOrderStatus.CLOSED).values_list("pk", flat=True)
    )
    if not closed:
        return set()
    billed = Bill.objects.filter(work_order_id__in=closed, status__in=SETTLED_BILL).values_list(
        "work_order_id", flat=True
    )
    settled = StatementLine.objects.filter(
        work_order_id__in=closed, statement__status__in=SETTLED_STATEMENT
    ).values_list("work_order_id", flat=True)
    return set(billed) | set(settled)


def _refuse_frozen(order: WorkOrder) -> None:
    if is_frozen(order):
        raise DomainError(
            "frozen",
            _("Work order %(number)s is closed and settled; its fee lines can no longer change.")
            % {"number": order.number},
        )


def _lock(order: WorkOrder) -> WorkOrder:
    # Only the order's row: the machine and contract may be missing (an outer join PostgreSQL
    # will not lock).
    return WorkOrder.objects.select_for_update(of=("self",)).select_related("equipment", "contract").get(pk=order.pk)


# -- who may write -------------------------------------------------------------------------------


def _engineer_on(order: WorkOrder, actor: User) -> bool:
    """The actor holds an accepted assignment on the order."""
    return bool(
        getattr(actor, "pk", None)
        and Assignment.objects.filter(
            work_order_id=order.pk, engineer_id=actor.pk, status=AssignmentStatus.ACCEPTED
        ).exists()
    )


def may_add_as_engineer(actor: User, order: WorkOrder) -> bool:
    return order.status not in ENGINEER_CLOSED and _engineer_on(order, actor)


def may_void(actor: User, line: FeeLine, order: WorkOrder | None = None) -> bool:
    """The back office any line; the engineer his own line while the order is open."""
    return may_manage_billing(actor) or (
        line.source == FeeSource.ENGINEER
        and line.created_by_id == getattr(actor, "pk", None)
        and may_add_as_engineer(actor, order or line.work_order)
    )


# -- validating a line ---------------------------------------------------------------------------


@dataclass
class FeeSpec:
    """One line to add. `unit_cost` empty: a part's moving-average cost, a cost the engineer paid
    (kind other) at its price, else nothing. `payer` empty: the entitlement decides."""

    kind: str
    description: str
    quantity: object = Decimal("1")
    unit_price: object = ZERO
    unit: str = ""
    discount: object = ZERO
    unit_cost: object = None
    part: Part | None = None
    payer: str = ""
    payer_reason: str = ""
    receipt: Attachment | None = None
    part_usage: PartUsage | None = None
    # Only an approved quotation's lines carry tax (its rate); price-list prices are final.
    tax_rate: object = ZERO


def _quantity(value) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, bool):
        raise field_error("quantity", _("Enter the quantity."), "required")
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error("quantity", _("Enter a number such as 1 or 2.5."), "invalid") from None
    if not quantity.is_finite():
        raise field_error("quantity", _("Enter a number such as 1 or 2.5."), "invalid")
    if quantity <= 0:
        raise field_error("quantity", _("The quantity must be more than zero."), "not_positive")
    if quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001")):
        raise field_error("quantity", _("At most %(max)s, with at most 3 decimals.") % {"max": MAX_QUANTITY}, "invalid")
    return quantity


def _text(value, name: str, limit: int, *, required: bool) -> str:
    if value is not None and not isinstance(value, str):
        raise field_error(name, _("Enter text."), "invalid")
    text = (value or "").strip()
    if required and not text:
        raise field_error(name, _("This field is required."), "required")
    if len(text) > limit:
        raise field_error(name, _("At most %(n)d characters.") % {"n": limit}, "max_length")
    return text


def _check_engineer_spec(spec: FeeSpec, *, has_receipt: bool) -> None:
    if spec.kind not in ENGINEER_KINDS:
        raise field_error("kind", _("On the phone add another cost or a service item."), "invalid_choice")
    if spec.kind == FeeKind.OTHER and not has_receipt:
        raise field_error("receipt", _("Take a photo of the receipt."), "required")


@dataclass
class _Line:
    """A checked line, ready to write."""

    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    amount: Decimal
    unit_cost: Decimal
    cost: Decimal
    part: Part | None
    payer: str
    payer_reason: str
    receipt: Attachment | None
    part_usage: PartUsage | None


def _amounts(quantity: Decimal, unit_price: Decimal, discount: Decimal, unit_cost: Decimal) -> tuple[Decimal, Decimal]:
    gross = cents(quantity * unit_price)
    if gross > MONEY_MAX:
        raise field_error("unit_price", _("The line's total is too large."), "too_large")
    if discount > gross:
        raise field_error(
            "discount", _("The discount cannot be more than the line (%(gross)s).") % {"gross": gross}, "above_line"
        )
    cost = cents(quantity * unit_cost)
    if cost > MONEY_MAX:
        raise field_error("unit_cost", _("The line's cost is too large."), "too_large")
    return gross - discount, cost


def _check(order: WorkOrder, spec: FeeSpec, *, known_cost: bool = False) -> _Line:
    """`known_cost`: the unit cost comes from our own books (a moving average has four places),
    not from a person, and is taken as it is."""
    if spec.kind not in FeeKind.values:
        raise field_error("kind", _("Unknown kind of fee."), "invalid_choice")
    description = _text(spec.description, "description", 200, required=True)
    if spec.kind == FeeKind.PART:
        if not isinstance(spec.part, Part):
            raise field_error("part", _("Choose the part."), "required")
    elif spec.part is not None:
        raise field_error("part", _("Only a part line names a part."), "invalid")
    if spec.receipt is not None and (
        not isinstance(spec.receipt, Attachment) or spec.receipt.work_order_id != order.pk
    ):
        raise field_error("receipt", _("Choose a photo of this order."), "invalid")
    quantity = _quantity(spec.quantity)
    unit = _text(spec.unit, "unit", 10, required=False)
    unit_price = parse_money(spec.unit_price, "unit_price", required=True)
    discount = parse_money(spec.discount, "discount") or ZERO
    if known_cost:
        unit_cost = Decimal(spec.unit_cost or ZERO).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    elif spec.unit_cost is None or spec.unit_cost == "":
        if spec.part is not None:
            unit_cost = spec.part.average_cost
        elif spec.kind == FeeKind.OTHER:
            unit_cost = unit_price  # what the engineer paid is what it cost us
        else:
            unit_cost = ZERO
    else:
        unit_cost = parse_money(spec.unit_cost, "unit_cost")
    amount, cost = _amounts(quantity, unit_price, discount, unit_cost)
    if spec.payer:
        if spec.payer not in Payer.values:
            raise field_error("payer", _("Unknown payer."), "invalid_choice")
        payer = spec.payer
        reason = _text(spec.payer_reason, "payer_reason", 300, required=False)
        if not reason:
            decided, why = payer_for(order, spec.kind, spec.part)
            reason = why if decided == payer else _("Chosen by the back office")
    else:
        payer, reason = payer_for(order, spec.kind, spec.part)
    return _Line(
        spec.kind,
        description,
        quantity,
        unit,
        unit_price,
        discount,
        amount,
        unit_cost,
        cost,
        spec.part,
        payer,
        reason[:300],
        spec.receipt,
        spec.part_usage,
    )


def _tax_rate(value) -> Decimal:
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise field_error("tax_rate", _("Enter a tax rate between 0 and 100."), "invalid") from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise field_error("tax_rate", _("Enter a tax rate between 0 and 100."), "invalid")
    return rate.quantize(CENT)


def _currency(order: WorkOrder) -> str:
    price_list = price_list_of(order)
    return price_list.currency if price_list is not None else DEFAULT_CURRENCY


def price_list_of(order: WorkOrder) -> PriceList | None:
    """The order's contract's own price list, else the default one."""
    contract = order.contract if order.contract_id else None
    if contract is not None and contract.price_list_id and contract.price_list.is_active:
        return contract.price_list
    return PriceList.objects.filter(is_default=True, is_active=True).first()


def _line_changes(line: FeeLine) -> dict:
    return {
        "description": [None, line.description],
        "quantity": [None, str(line.quantity)],
        "unit_price": [None, str(line.unit_price)],
        "discount": [None, str(line.discount)],
        "amount": [None, str(line.amount)],
        "cost": [None, str(line.cost)],
        "payer": [None, line.get_payer_display()],
    }


# -- writing lines -------------------------------------------------------------------------------


@transaction.atomic
def add_lines(
    order: WorkOrder,
    specs: Sequence[FeeSpec | dict],
    *,
    actor: User | None,
    source: str,
    quotation=None,
) -> list[FeeLine]:
    """Add lines to the order: the one writer of new fee lines. Every line is checked before any
    is written; a bad one is a field error naming its field and nothing is written.

    `source` says who adds them and so who may: "office" (MANAGE_BILLING), "engineer" (his own
    order, before it is closed; another cost needs its receipt), "quotation" (the approved
    `quotation`'s lines, the customer pays: the caller has checked the approval), "auto" (a line
    priced by hand, MANAGE_BILLING; `price_order` writes the visit's own lines set-based)."""
    if source not in FeeSource.values:
        raise field_error("source", _("Unknown source."), "invalid_choice")
    specs = [spec if isinstance(spec, FeeSpec) else FeeSpec(**spec) for spec in specs]
    if source in (FeeSource.OFFICE, FeeSource.AUTO):
        require(may_manage_billing(actor))
    elif source == FeeSource.ENGINEER:
        require(may_add_as_engineer(actor, order))
        for spec in specs:
            _check_engineer_spec(spec, has_receipt=spec.receipt is not None)
    elif source == FeeSource.QUOTATION and (quotation is None or quotation.work_order_id != order.pk):
        raise field_error("quotation", _("The quotation of this order is required."), "required")
    if not specs:
        raise field_error("lines", _("Add at least one line."), "required")
    current = _lock(order)
    _refuse_frozen(current)
    if source == FeeSource.ENGINEER and current.status in ENGINEER_CLOSED:
        require(False)
    checked = [_check(current, spec) for spec in specs]
    tax_rates = [_tax_rate(spec.tax_rate) if source == FeeSource.QUOTATION else ZERO for spec in specs]
    currency = _currency(current)
    lines = []
    for item, tax_rate in zip(checked, tax_rates, strict=True):
        line = FeeLine.objects.create(
            work_order=current,
            kind=item.kind,
            description=item.description,
            part=item.part,
            quantity=item.quantity,
            unit=item.unit,
            unit_price=item.unit_price,
            discount=item.discount,
            amount=item.amount,
            tax_rate=tax_rate,
            unit_cost=item.unit_cost,
            cost=item.cost,
            currency=currency,
            payer=Payer.CUSTOMER if source == FeeSource.QUOTATION else item.payer,
            payer_reason=(
                _("From the approved quotation %(number)s") % {"number": quotation.number}
                if source == FeeSource.QUOTATION
                else item.payer_reason
            )[:300],
            source=source,
            part_usage=item.part_usage,
            quotation=quotation,
            receipt=item.receipt,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record_event(line, actor=actor, action="fee_added", changes=_line_changes(line), related=current)
        lines.append(line)
    margins.refresh([current.pk])
    return lines


def add_fee_line(
    order: WorkOrder,
    *,
    actor: User,
    kind: str,
    description: str,
    quantity=Decimal("1"),
    unit_price=ZERO,
    unit: str = "",
    discount=ZERO,
    unit_cost=None,
    part: Part | None = None,
    payer: str = "",
    payer_reason: str = "",
    receipt_file=None,
    receipt: Attachment | None = None,
) -> FeeLine:
    """One line by hand: the engineer on the phone (his own order, before it is closed; another
    cost with a photo of its receipt) or the back office (MANAGE_BILLING; payer chosen or decided
    by the entitlement). Who adds it decides the source. The receipt is a photo to store
    (`receipt_file`) or one already stored on the order (`receipt`, e.g. uploaded through the API)."""
    office = may_manage_billing(actor)
    source = FeeSource.OFFICE if office else FeeSource.ENGINEER
    if not office:
        require(may_add_as_engineer(actor, order))
        # The engineer's lines are paid as the entitlement says; he does not choose. Nor does he
        # write our internal cost, which he may not see: it is the default (see FeeSpec).
        payer, payer_reason, unit_cost = "", "", None
    spec = FeeSpec(
        kind=kind,
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        unit=unit,
        discount=discount,
        unit_cost=unit_cost,
        part=part,
        payer=payer,
        payer_reason=payer_reason,
        receipt=receipt,
    )
    with transaction.atomic():
        if receipt_file:
            # Everything is checked before the photo is stored: a refused line leaves no file.
            check_image(receipt_file, "receipt", PHOTO_LIMIT)
            if source == FeeSource.ENGINEER:
                _check_engineer_spec(spec, has_receipt=True)
            _check(order, spec)
            _refuse_frozen(order)
            spec.receipt = attach_file(order, actor=actor, file=receipt_file, kind=AttachmentKind.PHOTO)
        return add_lines(order, [spec], actor=actor, source=source)[0]


@transaction.atomic
def correct_fee_line(line: FeeLine, *, actor: User, reason: str, **fields) -> FeeLine:
    """The back office corrects a line (price, quantity, discount, cost, who pays, ...); the
    reason is logged with what changed. A corrected priced line is not re-priced again."""
    require(may_manage_billing(actor))
    reason = _text(reason, "reason", 300, required=True)
    for name in fields:
        if name not in CORRECTABLE:
            raise field_error(name, _("This field cannot be corrected."), "unknown_field")
    if not fields:
        raise field_error("fields", _("Change at least one field."), "required")
    order = _lock(line.work_order)
    _refuse_frozen(order)
    line = FeeLine.objects.select_for_update().get(pk=line.pk)
    if line.is_void:
        raise DomainError("void", _("This line was removed; add a new one instead."))
    merged = {name: getattr(line, name) for name in CORRECTABLE}
    merged.update(fields)
    if "payer" in fields and "payer_reason" not in fields and fields["payer"] != line.payer:
        merged["payer_reason"] = ""
    checked = _check(
        order,
        FeeSpec(
            kind=line.kind,
            description=merged["description"],
            quantity=merged["quantity"],
            unit_price=merged["unit_price"],
            unit=merged["unit"],
            discount=merged["discount"],
            unit_cost=merged["unit_cost"],
            part=line.part,
            payer=merged["payer"],
            payer_reason=merged["payer_reason"],
        ),
        known_cost="unit_cost" not in fields,
    )
    before = {name: getattr(line, name) for name in LINE_FIELDS}
    for name in (
        "description",
        "quantity",
        "unit",
        "unit_price",
        "discount",
        "amount",
        "unit_cost",
        "cost",
        "payer",
        "payer_reason",
    ):
        setattr(line, name, getattr(checked, name))
    changes = {
        name: [_plain(before[name]), _plain(getattr(line, name))]
        for name in LINE_FIELDS
        if before[name] != getattr(line, name)
    }
    if not changes:
        raise field_error("fields", _("Nothing would change."), "unchanged")
    line.save()
    record_event(line, actor=actor, action="fee_corrected", changes=changes, related=order, note=reason)
    margins.refresh([order.pk])
    return line


@transaction.atomic
def void_fee_line(line: FeeLine, *, actor: User, reason: str) -> FeeLine:
    """Remove a line (it stays, struck through, with the reason). The back office, or the
    engineer his own line while the order is open."""
    order = _lock(line.work_order)
    require(may_void(actor, line, order))
    reason = _text(reason, "reason", 300, required=True)
    _refuse_frozen(order)
    line = FeeLine.objects.select_for_update().get(pk=line.pk)
    if line.is_void:
        raise DomainError("void", _("This line was removed already."))
    line.is_void = True
    line.void_reason = reason
    line.save(update_fields=["is_void", "void_reason", "updated_at"])
    record_event(
        line, actor=actor, action="fee_voided", changes={"amount": [str(line.amount), None]}, related=order, note=reason
    )
    margins.refresh([order.pk])
    return line


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def totals(lines: Iterable[FeeLine]) -> dict[str, Decimal]:
    """What the customer pays, what warranty and contracts cover, our cost and the margin."""
    result = dict.fromkeys(["customer", "covered", "cost", "margin"], ZERO)
    for line in lines:
        if line.is_void:
            continue
        if line.payer == Payer.CUSTOMER:
            result["customer"] += line.amount
        else:
            result["covered"] += line.amount
        result["cost"] += line.cost
    result["margin"] = result["customer"] - result["cost"]
    return result
