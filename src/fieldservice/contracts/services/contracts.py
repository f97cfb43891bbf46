"""Contracts: written as a draft, activated, then expired (the periodic check, once its end has
passed) or terminated. An extension is a new draft contract for the next period whose `previous`
is the old one. Two live contracts (draft or active) never cover one machine on the same day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.contracts.choices import LIVE_STATUSES, ContractLevel, ContractStatus, PartsCoverage
from fieldservice.contracts.models import Contract, PriceList, SlaPolicy
from fieldservice.contracts.services.entitlement import default_policy
from fieldservice.contracts.services.fields import parse_currency, parse_date, parse_money, require_manage
from fieldservice.core.errors import DomainError, field_error
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_date
from fieldservice.customers.models import Customer

CONTRACT_FIELDS = [
    "customer",
    "level",
    "sla_policy",
    "starts_on",
    "ends_on",
    "included_visits",
    "maintenance_visits_per_year",
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
    "maintenance_visits_per_year",
    "parts_coverage",
    "labour_covered",
    "price_list",
    "annual_fee",
    "currency",
]
# What may still change once a contract is no longer a draft: it is a signed agreement.
ALWAYS_EDITABLE = {"notes"}
NOTES_MAX_LENGTH = 5000

_UNSET = object()


def _check_contract_fields(fields: dict) -> dict:
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
            cleaned[name] = check_date(parse_date(value, name), field=name)
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
        elif name == "maintenance_visits_per_year":
            if value in (None, ""):
                cleaned[name] = None
            else:
                try:
                    visits = int(value)
                except (TypeError, ValueError):
                    raise field_error(name, _("Enter a whole number of visits."), "invalid") from None
                if visits < 1 or visits > 12:
                    raise field_error(
                        name, _("Between 1 and 12 visits a year; leave it empty for none."), "out_of_range"
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
            cleaned[name] = parse_money(value, name)
        elif name == "currency":
            cleaned[name] = parse_currency(value)
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
    require_manage(actor)
    cleaned = _check_contract_fields(
        {"customer": customer, "starts_on": starts_on, "ends_on": ends_on, "sla_policy": sla_policy, "level": level}
        | fields
    )
    _check_period(cleaned["starts_on"], cleaned["ends_on"])
    if cleaned["sla_policy"] is None:
        cleaned["sla_policy"] = default_policy(customer)
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
    require_manage(actor)
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
    require_manage(actor)
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
    require_manage(actor)
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
    require_manage(actor)
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
