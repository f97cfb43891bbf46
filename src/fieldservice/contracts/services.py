"""Service contracts, price lists, entitlements and expiry reminders.

A contract covers named machines of one customer for a period. It is written as a draft,
activated, and then either expires (the periodic check, once its end has passed) or is
terminated. An extension is a new draft contract for the next period whose `previous` is the
old one. Two live contracts (draft or active) never cover one machine on the same day.

`decide_entitlement` says, when a work order is created, whether the visit is under warranty,
under contract or chargeable, and which SLA policy applies; the order keeps the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import ROLE_CAPABILITIES, Capability
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.contracts.choices import (
    LIVE_STATUSES,
    ContractLevel,
    ContractStatus,
    Entitlement,
    PartsCoverage,
    PriceItemKind,
    ReminderSubject,
)
from fieldservice.contracts.models import (
    Contract,
    ExpiryReminder,
    PriceList,
    PriceListItem,
    ReminderSetting,
)
from fieldservice.contracts.permissions import may_manage_contracts
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.outbox import emit_many
from fieldservice.core.validation import check_date
from fieldservice.customers.models import Customer
from fieldservice.inventory.models import Part

CONTRACT_FIELDS = [
    "customer",
    "level",
    "sla_policy",
    "starts_on",
    "ends_on",
    "included_visits",
    "parts_coverage",
    "labour_covered",
    "price_list",
    "annual_fee",
    "currency",
    "notes",
]
# Terms an extension takes over from the period it extends (and may override).
EXTENSION_TERMS = [
    "level",
    "sla_policy",
    "included_visits",
    "parts_coverage",
    "labour_covered",
    "price_list",
    "annual_fee",
    "currency",
]
# What may still change once a contract is no longer a draft: it is a signed agreement.
ALWAYS_EDITABLE = {"notes"}
PRICE_LIST_FIELDS = ["name", "currency", "is_default", "is_active"]
NOTES_MAX_LENGTH = 5000
FEE_MAX = Decimal("9999999999.99")

_UNSET = object()


def _require_manage(actor: User) -> None:
    require(may_manage_contracts(actor))


# Field checks


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise field_error(field, _("Enter a date (YYYY-MM-DD)."), "invalid_date" if value else "required")


def _money(value, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid") from None
    if not amount.is_finite():
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid")
    if amount < 0:
        raise field_error(field, _("The amount cannot be negative."), "negative")
    if amount > FEE_MAX or amount != amount.quantize(Decimal("0.01")):
        raise field_error(field, _("At most 10 digits before and 2 after the decimal point."), "invalid")
    return amount


def _currency(value, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise field_error(field, _("Enter a three-letter currency code such as CNY."), "invalid")
    return code


def _check_contract_fields(fields: dict) -> dict:
    from fieldservice.sla.models import SlaPolicy

    cleaned = {}
    for name, value in fields.items():
        if name == "customer":
            if not isinstance(value, Customer):
                raise field_error("customer", _("Choose the customer."), "required")
            cleaned[name] = value
        elif name == "level":
            if value not in ContractLevel.values:
                raise field_error("level", _("Unknown contract level."), "invalid_choice")
            cleaned[name] = value
        elif name == "sla_policy":
            if value is not None and not isinstance(value, SlaPolicy):
                raise field_error("sla_policy", _("Choose an SLA policy."), "invalid_choice")
            cleaned[name] = value
        elif name in {"starts_on", "ends_on"}:
            cleaned[name] = check_date(_date(value, name), field=name)
        elif name == "included_visits":
            if value in (None, ""):
                cleaned[name] = None
            else:
                try:
                    visits = int(value)
                except (TypeError, ValueError):
                    raise field_error(name, _("Enter a whole number of visits."), "invalid") from None
                if visits < 1 or visits > 10000:
                    raise field_error(
                        name, _("At least one visit; leave it empty for unlimited visits."), "out_of_range"
                    )
                cleaned[name] = visits
        elif name == "parts_coverage":
            if value not in PartsCoverage.values:
                raise field_error(name, _("Unknown parts coverage."), "invalid_choice")
            cleaned[name] = value
        elif name == "labour_covered":
            cleaned[name] = bool(value)
        elif name == "price_list":
            if value is not None and (not isinstance(value, PriceList) or not value.is_active):
                raise field_error(name, _("Choose an active price list."), "invalid_choice")
            cleaned[name] = value
        elif name == "annual_fee":
            cleaned[name] = _money(value, name)
        elif name == "currency":
            cleaned[name] = _currency(value)
        elif name == "notes":
            notes = (value or "").strip()
            if len(notes) > NOTES_MAX_LENGTH:
                raise field_error(name, _("At most %(n)d characters.") % {"n": NOTES_MAX_LENGTH}, "max_length")
            cleaned[name] = notes
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    return cleaned


def _check_equipment(customer: Customer, equipment: Iterable[Equipment]) -> list[Equipment]:
    machines = {}
    for machine in equipment or ():
        if not isinstance(machine, Equipment):
            raise field_error("equipment", _("Choose machines from the list."), "invalid_choice")
        if machine.customer_id != customer.pk:
            raise field_error(
                "equipment",
                _("Machine %(serial)s belongs to another customer.") % {"serial": machine.serial_number},
                "other_customer",
            )
        if machine.status != EquipmentStatus.REGISTERED:
            raise field_error(
                "equipment",
                _("Machine %(serial)s is no longer registered for service.") % {"serial": machine.serial_number},
                "not_registered",
            )
        machines[machine.pk] = machine
    return sorted(machines.values(), key=lambda machine: machine.pk)


def _check_period(starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on < starts_on:
        raise field_error("ends_on", _("The contract cannot end before it starts."), "invalid_range")


def _lock_equipment(machines: Iterable[Equipment]) -> None:
    """Lock the machines' rows in a stable order, so two writers covering the same machine
    queue up (and never deadlock) while each checks for an overlapping contract."""
    pks = sorted({machine.pk for machine in machines})
    if pks:
        list(Equipment.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))


def _check_overlap(
    machines: list[Equipment],
    starts_on: dt.date,
    ends_on: dt.date,
    *,
    statuses: Iterable[str] = LIVE_STATUSES,
    exclude: Contract | None = None,
) -> None:
    through = Contract.equipment.through
    clashes = (
        through.objects.filter(
            equipment__in=[machine.pk for machine in machines],
            contract__status__in=list(statuses),
            contract__starts_on__lte=ends_on,
            contract__ends_on__gte=starts_on,
        )
        .select_related("contract", "equipment")
        .order_by("equipment__serial_number", "contract__starts_on")
    )
    if exclude is not None and exclude.pk:
        clashes = clashes.exclude(contract_id=exclude.pk)
    clash = clashes.first()
    if clash is not None:
        raise field_error(
            "equipment",
            _("Machine %(serial)s is already covered by contract %(number)s from %(starts_on)s to %(ends_on)s.")
            % {
                "serial": clash.equipment.serial_number,
                "number": clash.contract.number,
                "starts_on": clash.contract.starts_on.isoformat(),
                "ends_on": clash.contract.ends_on.isoformat(),
            },
            "overlap",
        )


def _default_policy(customer: Customer | None):
    """The policy for the customer's tier, else the default policy."""
    from fieldservice.sla.models import SlaPolicy

    if customer is not None and customer.tier:
        policy = SlaPolicy.objects.filter(is_active=True, customer_tier=customer.tier).order_by("pk").first()
        if policy is not None:
            return policy
    return SlaPolicy.objects.filter(is_active=True, is_default=True).first()


def _next_number(today: dt.date) -> str:
    prefix = f"SC{today.year}-"
    last = (
        Contract.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = 1
    if last:
        try:
            serial = int(last[len(prefix) :]) + 1
        except ValueError:  # pragma: no cover - a hand-made number in our series
            serial = Contract.objects.filter(number__startswith=prefix).count() + 1
    return f"{prefix}{serial:04d}"


# Contracts


def _insert_contract(cleaned: dict, machines: list[Equipment], *, actor: User, previous: Contract | None) -> Contract:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                contract = Contract.objects.create(
                    number=_next_number(timezone.localdate()),
                    previous=previous,
                    created_by=actor if getattr(actor, "pk", None) else None,
                    **cleaned,
                )
            break
        except IntegrityError:
            # A concurrent create took the number (or extended the same period): try again,
            # and say so if it was the extension.
            if previous is not None and Contract.objects.filter(previous=previous).exists():
                raise _already_extended(previous) from None
    else:  # pragma: no cover - five concurrent creators in a row
        raise field_error("number", _("Could not number the contract; try again."), "numbering")
    contract.equipment.set(machines)
    return contract


@transaction.atomic
def create_contract(
    *,
    actor: User,
    customer: Customer,
    starts_on,
    ends_on,
    equipment: Iterable[Equipment] = (),
    sla_policy=None,
    level: str = ContractLevel.SILVER,
    **fields,
) -> Contract:
    """A draft contract. Without an SLA policy it gets the customer's tier policy (else the
    default one); without a price list, the default price list."""
    _require_manage(actor)
    cleaned = _check_contract_fields(
        {"customer": customer, "starts_on": starts_on, "ends_on": ends_on, "sla_policy": sla_policy, "level": level}
        | fields
    )
    _check_period(cleaned["starts_on"], cleaned["ends_on"])
    if cleaned["sla_policy"] is None:
        cleaned["sla_policy"] = _default_policy(customer)
        if cleaned["sla_policy"] is None:
            raise field_error("sla_policy", _("Choose an SLA policy: there is no default policy."), "required")
    elif not cleaned["sla_policy"].is_active:
        raise field_error("sla_policy", _("This SLA policy is no longer used."), "invalid_choice")
    if "price_list" not in cleaned:
        cleaned["price_list"] = PriceList.objects.filter(is_default=True, is_active=True).first()
    machines = _check_equipment(customer, equipment)
    _lock_equipment(machines)
    _check_overlap(machines, cleaned["starts_on"], cleaned["ends_on"])
    contract = _insert_contract(cleaned, machines, actor=actor, previous=None)
    record_created(contract, actor=actor, fields=CONTRACT_FIELDS, related=customer, note=_machines_note(machines))
    return contract


def _machines_note(machines: list[Equipment], prefix: str = "") -> str:
    serials = ", ".join(machine.serial_number for machine in machines)
    note = _("Machines: %(serials)s") % {"serials": serials} if serials else _("No machines listed yet")
    return f"{prefix}\n{note}" if prefix else note


@transaction.atomic
def update_contract(contract: Contract, *, actor: User, equipment=_UNSET, **fields) -> Contract:
    """Change a draft. Once active (or over) only the notes may change."""
    _require_manage(actor)
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if "customer" in fields and fields["customer"] != contract.customer:
        raise field_error("customer", _("The customer of a contract cannot change."), "fixed")
    fields.pop("customer", None)
    locked_terms = (set(fields) - ALWAYS_EDITABLE) | ({"equipment"} if equipment is not _UNSET else set())
    if contract.status != ContractStatus.DRAFT and locked_terms:
        raise DomainError(
            "not_editable",
            _("Contract %(number)s is %(status)s: only its notes can change.")
            % {"number": contract.number, "status": contract.get_status_display()},
        )
    cleaned = _check_contract_fields(fields)
    if "sla_policy" in cleaned:
        if cleaned["sla_policy"] is None:
            raise field_error("sla_policy", _("Choose an SLA policy."), "required")
        if not cleaned["sla_policy"].is_active and cleaned["sla_policy"].pk != contract.sla_policy_id:
            raise field_error("sla_policy", _("This SLA policy is no longer used."), "invalid_choice")
    starts_on = cleaned.get("starts_on", contract.starts_on)
    ends_on = cleaned.get("ends_on", contract.ends_on)
    _check_period(starts_on, ends_on)
    if contract.previous_id and starts_on <= contract.previous.ends_on:
        raise field_error(
            "starts_on",
            _("An extension starts after the period it extends (%(date)s).")
            % {"date": contract.previous.ends_on.isoformat()},
            "overlap",
        )
    machines = (
        _check_equipment(contract.customer, equipment) if equipment is not _UNSET else list(contract.equipment.all())
    )
    if contract.status == ContractStatus.DRAFT:
        _lock_equipment(machines)
        _check_overlap(machines, starts_on, ends_on, exclude=contract)
    before = snapshot(contract, CONTRACT_FIELDS)
    before_machines = sorted(contract.equipment.values_list("serial_number", flat=True))
    for name, value in cleaned.items():
        setattr(contract, name, value)
    contract.save()
    if equipment is not _UNSET:
        contract.equipment.set(machines)
    after_machines = sorted(machine.serial_number for machine in machines)
    record_updated(contract, actor=actor, before=before, related=contract.customer)
    if after_machines != before_machines:
        record_event(
            contract,
            actor=actor,
            action="equipment_changed",
            related=contract.customer,
            changes={"equipment": [", ".join(before_machines) or None, ", ".join(after_machines) or None]},
        )
    return contract


def _locked_for_move(contract: Contract, allowed: set[str]) -> Contract:
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.status not in allowed:
        raise DomainError(
            "illegal_transition",
            _("Contract %(number)s is %(status)s; this is not possible now.")
            % {"number": locked.number, "status": locked.get_status_display()},
        )
    return locked


def _move(contract: Contract, *, actor, action: str, to: str, note: str = "", **fields) -> Contract:
    before = contract.get_status_display()
    Contract.objects.filter(pk=contract.pk).update(status=to, **fields)
    contract.refresh_from_db()
    record_event(
        contract,
        actor=actor,
        action=action,
        related=contract.customer,
        note=note,
        changes={"status": [str(before), str(contract.get_status_display())]},
    )
    return contract


@transaction.atomic
def activate_contract(contract: Contract, *, actor: User, today: dt.date | None = None) -> Contract:
    """Put a draft in force. Its machines are locked first, so of two activations covering
    one machine at once only one can succeed."""
    _require_manage(actor)
    today = today or timezone.localdate()
    contract = _locked_for_move(contract, {ContractStatus.DRAFT})
    if contract.ends_on < today:
        raise field_error(
            "ends_on",
            _("This period ended on %(date)s; it cannot be activated. Extend the contract instead.")
            % {"date": contract.ends_on.isoformat()},
            "period_over",
        )
    machines = list(contract.equipment.all())
    if not machines:
        raise field_error("equipment", _("List the machines this contract covers."), "required")
    _check_equipment(contract.customer, machines)
    _lock_equipment(machines)
    _check_overlap(machines, contract.starts_on, contract.ends_on, statuses=[ContractStatus.ACTIVE], exclude=contract)
    return _move(contract, actor=actor, action="activated", to=ContractStatus.ACTIVE)


@transaction.atomic
def terminate_contract(contract: Contract, *, actor: User, reason: str) -> Contract:
    """End a contract early, or withdraw a draft. The reason is kept on the contract."""
    _require_manage(actor)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason."), "required")
    if len(reason) > 300:
        raise field_error("reason", _("At most %(n)d characters.") % {"n": 300}, "max_length")
    contract = _locked_for_move(contract, {ContractStatus.DRAFT, ContractStatus.ACTIVE})
    return _move(
        contract, actor=actor, action="terminated", to=ContractStatus.TERMINATED, note=reason, terminated_reason=reason
    )


def _already_extended(contract: Contract) -> DomainError:
    extension = Contract.objects.filter(previous=contract).first()
    return DomainError(
        "already_extended",
        _("Contract %(number)s was already extended by %(extension)s.")
        % {"number": contract.number, "extension": extension.number if extension else "?"},
    )


@transaction.atomic
def extend_contract(contract: Contract, *, actor: User, ends_on, **terms) -> Contract:
    """A draft for the next period: it starts the day after `contract` ends, covers the same
    (still registered) machines on the same terms unless `terms` say otherwise."""
    _require_manage(actor)
    contract = _locked_for_move(contract, {ContractStatus.ACTIVE, ContractStatus.EXPIRED})
    if Contract.objects.filter(previous=contract).exists():
        raise _already_extended(contract)
    unknown = set(terms) - set(EXTENSION_TERMS) - {"notes"}
    if unknown:
        raise field_error(sorted(unknown)[0], _("This field cannot be set here."), "unknown_field")
    starts_on = contract.ends_on + dt.timedelta(days=1)
    values = {name: getattr(contract, name) for name in EXTENSION_TERMS} | terms
    cleaned = _check_contract_fields(
        {"customer": contract.customer, "starts_on": starts_on, "ends_on": ends_on} | values
    )
    if cleaned["ends_on"] < starts_on:
        raise field_error(
            "ends_on",
            _("The next period starts on %(date)s; it must end on or after that day.")
            % {"date": starts_on.isoformat()},
            "invalid_range",
        )
    if cleaned["sla_policy"] is None:
        raise field_error("sla_policy", _("Choose an SLA policy."), "required")
    machines = [m for m in contract.equipment.all() if m.status == EquipmentStatus.REGISTERED]
    _lock_equipment(machines)
    _check_overlap(machines, starts_on, cleaned["ends_on"])
    extension = _insert_contract(cleaned, machines, actor=actor, previous=contract)
    record_created(
        extension,
        actor=actor,
        fields=CONTRACT_FIELDS,
        related=contract.customer,
        note=_machines_note(machines, _("Extends %(number)s") % {"number": contract.number}),
    )
    record_event(
        contract,
        actor=actor,
        action="extended",
        related=contract.customer,
        note=_("Next period: %(number)s (%(starts_on)s to %(ends_on)s)")
        % {
            "number": extension.number,
            "starts_on": extension.starts_on.isoformat(),
            "ends_on": extension.ends_on.isoformat(),
        },
    )
    return extension


def contract_periods(contract: Contract) -> list[Contract]:
    """Every period of the agreement `contract` belongs to, oldest first."""
    earlier = []
    current = contract
    seen = {contract.pk}
    while current.previous_id and len(seen) < 200:
        current = Contract.objects.select_related("previous").get(pk=current.previous_id)
        if current.pk in seen:  # pragma: no cover - a loop made by hand in the admin
            break
        seen.add(current.pk)
        earlier.append(current)
    later = []
    current = contract
    while len(seen) < 200:
        current = Contract.objects.filter(previous=current).first()
        if current is None or current.pk in seen:
            break
        seen.add(current.pk)
        later.append(current)
    return [*reversed(earlier), contract, *later]


def visits_used(contract: Contract) -> int:
    from fieldservice.workorders.choices import WorkOrderStatus

    return contract.work_orders.exclude(status=WorkOrderStatus.CANCELLED).count()


def visits_left(contract: Contract) -> int | None:
    if contract.included_visits is None:
        return None
    return max(contract.included_visits - visits_used(contract), 0)


# Entitlement


@dataclass(frozen=True)
class EntitlementDecision:
    entitlement: str
    reason: str
    contract: object | None
    sla_policy: object | None


def covering_contract(equipment: Equipment, on: dt.date) -> Contract | None:
    """The active contract covering the machine on that day (at most one, by the overlap rule)."""
    return (
        Contract.objects.filter(status=ContractStatus.ACTIVE, equipment=equipment, starts_on__lte=on, ends_on__gte=on)
        .select_related("sla_policy", "customer")
        .order_by("starts_on", "pk")
        .first()
    )


def _in_warranty(equipment: Equipment, on: dt.date) -> bool:
    starts, ends = equipment.warranty_starts_on, equipment.warranty_ends_on
    return bool(starts and ends and starts <= on <= ends)


def decide_entitlement(*, customer, equipment, priority, on=None) -> EntitlementDecision:
    """Why a visit for `equipment` on `on` (today) is free or charged, and its SLA policy.

    Warranty first, then an active contract with visits left; a contract whose included
    visits are used up still gives its SLA policy but the visit is chargeable (and not counted
    against it). A contract covers the machines it lists; without a machine nothing covers the
    visit. The SLA policy is the contract's, else the customer's tier policy, else the default.
    """
    on = on or timezone.localdate()
    fallback = _default_policy(customer)
    if equipment is None:
        return EntitlementDecision(
            Entitlement.CHARGEABLE,
            _("No machine chosen: warranty and contracts cover named machines only"),
            None,
            fallback,
        )
    contract = covering_contract(equipment, on)
    if _in_warranty(equipment, on):
        ends = equipment.warranty_ends_on.isoformat()
        if contract is not None:
            reason = _("In warranty until %(date)s; response times of contract %(number)s apply") % {
                "date": ends,
                "number": contract.number,
            }
            return EntitlementDecision(Entitlement.WARRANTY, reason[:300], None, contract.sla_policy)
        return EntitlementDecision(
            Entitlement.WARRANTY, _("In warranty until %(date)s") % {"date": ends}, None, fallback
        )
    if contract is not None:
        details = {
            "number": contract.number,
            "level": contract.get_level_display(),
            "date": contract.ends_on.isoformat(),
        }
        if contract.included_visits is None:
            reason = _("Under contract %(number)s (%(level)s) until %(date)s") % details
            return EntitlementDecision(Entitlement.CONTRACT, reason[:300], contract, contract.sla_policy)
        if transaction.get_connection().in_atomic_block:
            # Orders made at once for one contract count its visits one after the other.
            Contract.objects.select_for_update().filter(pk=contract.pk).values_list("pk", flat=True).first()
        used = visits_used(contract)
        if used < contract.included_visits:
            reason = _("Under contract %(number)s (%(level)s) until %(date)s; visit %(visit)d of %(total)d") % (
                details | {"visit": used + 1, "total": contract.included_visits}
            )
            return EntitlementDecision(Entitlement.CONTRACT, reason[:300], contract, contract.sla_policy)
        reason = _(
            "Contract %(number)s covers this machine, but all %(total)d included visits are used; "
            "this visit is chargeable"
        ) % {"number": contract.number, "total": contract.included_visits}
        return EntitlementDecision(Entitlement.CHARGEABLE, reason[:300], None, contract.sla_policy)
    return EntitlementDecision(Entitlement.CHARGEABLE, _("No warranty or contract covers this machine"), None, fallback)


def entitlement_for_request(request) -> EntitlementDecision | None:
    """What a work order made from this request today would get (None without a customer)."""
    if request.customer_id is None:
        return None
    return decide_entitlement(customer=request.customer, equipment=request.equipment, priority=request.priority)


# Expiry: the periodic check


def _contract_managers() -> list[int]:
    roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.MANAGE_CONTRACTS in capabilities]
    return list(
        User.objects.filter(is_active=True, organisation__kind=OrganisationKind.OWN, roles__role__in=roles)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )


def reminder_recipients(customer: Customer, managers: list[int] | None = None) -> list[int]:
    """The customer's account owner; a customer without an (active) one is nobody's, so the
    people who sell contracts (our staff who manage contracts) get it instead."""
    owner = customer.account_owner
    if owner is not None and owner.is_active:
        return [owner.pk]
    return list(managers if managers is not None else _contract_managers())


def reminder_days(subject: str) -> list[int]:
    return sorted(ReminderSetting.objects.filter(subject=subject, is_active=True).values_list("days_before", flat=True))


def _threshold(days_left: int, thresholds: list[int]) -> int | None:
    """The tightest threshold the end is within. After downtime a reminder that is late is
    sent once for the threshold that applies now, not for every threshold passed meanwhile."""
    for days in thresholds:  # ascending
        if days_left <= days:
            return days
    return None


def expire_contracts(*, today: dt.date | None = None) -> int:
    """Mark active contracts whose end has passed as expired (one event each)."""
    today = today or timezone.localdate()
    count = 0
    for pk in Contract.objects.filter(status=ContractStatus.ACTIVE, ends_on__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            contract = (
                Contract.objects.select_for_update()
                .filter(pk=pk, status=ContractStatus.ACTIVE, ends_on__lt=today)
                .first()
            )
            if contract is None:  # another worker got there first
                continue
            _move(
                contract,
                actor=None,
                action="expired",
                to=ContractStatus.EXPIRED,
                note=_("Ended on %(date)s") % {"date": contract.ends_on.isoformat()},
            )
            count += 1
    return count


def _contract_reminders(today: dt.date, managers: list[int]) -> tuple[list, list]:
    thresholds = reminder_days(ReminderSubject.CONTRACT)
    if not thresholds:
        return [], []
    horizon = today + dt.timedelta(days=thresholds[-1])
    contracts = (
        Contract.objects.filter(status=ContractStatus.ACTIVE, ends_on__gte=today, ends_on__lte=horizon)
        # Renewed already: the next period is signed.
        .exclude(extension__status=ContractStatus.ACTIVE)
        .select_related("customer__account_owner")
        .order_by("ends_on", "pk")
    )
    messages, rows = [], []
    for contract in contracts:
        days_left = (contract.ends_on - today).days
        days = _threshold(days_left, thresholds)
        if days is None:
            continue
        recipients = reminder_recipients(contract.customer, managers)
        if not recipients:
            continue
        key = f"contract-exp:{contract.pk}:{contract.ends_on.isoformat()}:{days}"
        payload = {
            "event": "contract.expiring",
            "recipients": recipients,
            "context": {
                "contract": contract.number,
                "customer": contract.customer.name,
                "ends_on": contract.ends_on.isoformat(),
                "days_left": days_left,
            },
            "url": reverse("contracts:detail", args=[contract.pk]),
        }
        messages.append(("contract.expiring", payload, key))
        rows.append(
            ExpiryReminder(
                subject=ReminderSubject.CONTRACT,
                contract=contract,
                ends_on=contract.ends_on,
                days_before=days,
                days_left=days_left,
                recipients=recipients,
            )
        )
    return messages, rows


def _warranty_reminders(today: dt.date, managers: list[int]) -> tuple[list, list]:
    thresholds = reminder_days(ReminderSubject.WARRANTY)
    if not thresholds:
        return [], []
    horizon = today + dt.timedelta(days=thresholds[-1])
    machines = (
        Equipment.objects.filter(
            status=EquipmentStatus.REGISTERED, warranty_ends_on__gte=today, warranty_ends_on__lte=horizon
        )
        .select_related("product_model", "customer__account_owner")
        .order_by("warranty_ends_on", "pk")
    )
    messages, rows = [], []
    for machine in machines:
        days_left = (machine.warranty_ends_on - today).days
        days = _threshold(days_left, thresholds)
        if days is None:
            continue
        # A machine a contract already covers after its warranty needs no sales call.
        if covering_contract(machine, machine.warranty_ends_on + dt.timedelta(days=1)) is not None:
            continue
        recipients = reminder_recipients(machine.customer, managers)
        if not recipients:
            continue
        key = f"warranty-exp:{machine.pk}:{machine.warranty_ends_on.isoformat()}:{days}"
        payload = {
            "event": "warranty.expiring",
            "recipients": recipients,
            "context": {
                "serial": machine.serial_number,
                "model": str(machine.product_model),
                "customer": machine.customer.name,
                "ends_on": machine.warranty_ends_on.isoformat(),
                "days_left": days_left,
            },
            "url": reverse("assets:equipment_detail", args=[machine.pk]),
        }
        messages.append(("warranty.expiring", payload, key))
        rows.append(
            ExpiryReminder(
                subject=ReminderSubject.WARRANTY,
                equipment=machine,
                ends_on=machine.warranty_ends_on,
                days_before=days,
                days_left=days_left,
                recipients=recipients,
            )
        )
    return messages, rows


def _not_sent(messages: list, rows: list) -> tuple[list, list]:
    sent_contracts = set(
        ExpiryReminder.objects.filter(
            subject=ReminderSubject.CONTRACT, contract__in=[r.contract_id for r in rows if r.contract_id]
        ).values_list("contract_id", "ends_on", "days_before")
    )
    sent_machines = set(
        ExpiryReminder.objects.filter(
            subject=ReminderSubject.WARRANTY, equipment__in=[r.equipment_id for r in rows if r.equipment_id]
        ).values_list("equipment_id", "ends_on", "days_before")
    )
    kept_messages, kept_rows = [], []
    for message, row in zip(messages, rows, strict=True):
        sent = sent_contracts if row.subject == ReminderSubject.CONTRACT else sent_machines
        if (row.contract_id or row.equipment_id, row.ends_on, row.days_before) in sent:
            continue
        kept_messages.append(message)
        kept_rows.append(row)
    return kept_messages, kept_rows


@transaction.atomic
def send_expiry_reminders(*, today: dt.date | None = None) -> dict:
    """The periodic check: expire what has ended, then remind account owners of contracts and
    warranties about to end. Safe to run any number of times: each reminder is sent once per
    end date and threshold (a row here and a keyed outbox message)."""
    today = today or timezone.localdate()
    expired = expire_contracts(today=today)
    managers = _contract_managers()
    contract_messages, contract_rows = _contract_reminders(today, managers)
    warranty_messages, warranty_rows = _warranty_reminders(today, managers)
    messages, rows = _not_sent(contract_messages + warranty_messages, contract_rows + warranty_rows)
    ExpiryReminder.objects.bulk_create(rows, ignore_conflicts=True)
    emit_many(messages)
    return {
        "expired": expired,
        "contract_reminders": sum(1 for row in rows if row.subject == ReminderSubject.CONTRACT),
        "warranty_reminders": sum(1 for row in rows if row.subject == ReminderSubject.WARRANTY),
    }


# Price lists


def _check_price_list_fields(fields: dict, *, price_list: PriceList | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            text = (value or "").strip()
            if not text:
                raise field_error("name", _("This field is required."), "required")
            if len(text) > 100:
                raise field_error("name", _("At most %(n)d characters.") % {"n": 100}, "max_length")
            clash = PriceList.objects.filter(name__iexact=text)
            if price_list is not None:
                clash = clash.exclude(pk=price_list.pk)
            if clash.exists():
                raise field_error("name", _("A price list with this name exists."), "duplicate")
            cleaned[name] = text
        elif name == "currency":
            cleaned[name] = _currency(value)
        elif name in {"is_default", "is_active"}:
            cleaned[name] = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    is_default = cleaned.get("is_default", price_list.is_default if price_list else False)
    if is_default and not cleaned.get("is_active", price_list.is_active if price_list else True):
        raise field_error("is_active", _("The default price list must be active."), "default_inactive")
    return cleaned


def _take_default(keep: PriceList | None = None) -> None:
    others = PriceList.objects.select_for_update().filter(is_default=True)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    others.update(is_default=False)


@transaction.atomic
def create_price_list(*, actor: User, name: str, **fields) -> PriceList:
    _require_manage(actor)
    cleaned = _check_price_list_fields({"name": name} | fields)
    if cleaned.get("is_default"):
        _take_default()
    try:
        with transaction.atomic():
            price_list = PriceList.objects.create(**cleaned)
    except IntegrityError:
        raise field_error("name", _("A price list with this name exists."), "duplicate") from None
    record_created(price_list, actor=actor, fields=PRICE_LIST_FIELDS)
    return price_list


@transaction.atomic
def update_price_list(price_list: PriceList, *, actor: User, **fields) -> PriceList:
    _require_manage(actor)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    cleaned = _check_price_list_fields(fields, price_list=price_list)
    if cleaned.get("is_default") is False and price_list.is_default:
        raise field_error("is_default", _("Make another price list the default instead."), "default_required")
    before = snapshot(price_list, PRICE_LIST_FIELDS)
    if cleaned.get("is_default"):
        _take_default(price_list)
    for name, value in cleaned.items():
        setattr(price_list, name, value)
    try:
        with transaction.atomic():
            price_list.save()
    except IntegrityError:
        raise field_error("name", _("A price list with this name exists."), "duplicate") from None
    record_updated(price_list, actor=actor, before=before)
    return price_list


def _check_price(price_list: PriceList, kind: str, part, unit_price) -> tuple[str, object, Decimal]:
    if kind not in PriceItemKind.values:
        raise field_error("kind", _("Unknown kind of price."), "invalid_choice")
    if kind == PriceItemKind.PART:
        if not isinstance(part, Part):
            raise field_error("part", _("Choose the part."), "required")
    elif part is not None:
        raise field_error("part", _("Only a part price names a part."), "invalid")
    amount = _money(unit_price, "unit_price")
    if amount is None:
        raise field_error("unit_price", _("This field is required."), "required")
    return kind, part, amount


@transaction.atomic
def set_price(price_list: PriceList, *, actor: User, kind: str, unit_price, part=None) -> PriceListItem:
    """Set the price of labour, the call-out or a part on a list (one price each)."""
    _require_manage(actor)
    kind, part, amount = _check_price(price_list, kind, part, unit_price)
    PriceList.objects.select_for_update().filter(pk=price_list.pk).values_list("pk", flat=True).first()
    lookup = {"part": part} if part is not None else {"kind": kind, "part__isnull": True}
    item = price_list.items.filter(**lookup).first()
    if item is None:
        item = PriceListItem.objects.create(price_list=price_list, kind=kind, part=part, unit_price=amount)
        record_event(
            price_list,
            actor=actor,
            action="price_set",
            changes={str(item.part or item.get_kind_display()): [None, str(amount)]},
        )
    elif item.unit_price != amount:
        old = item.unit_price
        item.unit_price = amount
        item.save(update_fields=["unit_price"])
        record_event(
            price_list,
            actor=actor,
            action="price_set",
            changes={str(item.part or item.get_kind_display()): [str(old), str(amount)]},
        )
    return item


@transaction.atomic
def remove_price(item: PriceListItem, *, actor: User) -> None:
    _require_manage(actor)
    record_event(
        item.price_list,
        actor=actor,
        action="price_removed",
        changes={str(item.part or item.get_kind_display()): [str(item.unit_price), None]},
    )
    item.delete()


def price_for(price_list: PriceList | None, *, kind: str, part=None) -> Decimal | None:
    """The price on `price_list` (else the default list) for labour, the call-out or a part."""
    price_list = price_list or PriceList.objects.filter(is_default=True, is_active=True).first()
    if price_list is None:
        return None
    lookup = {"part": part} if kind == PriceItemKind.PART else {"kind": kind, "part__isnull": True}
    return price_list.items.filter(**lookup).values_list("unit_price", flat=True).first()
