"""Expiry: the periodic check that expires ended contracts and reminds account owners of
contracts and warranties about to end."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import ROLE_CAPABILITIES, Capability
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.contracts.choices import ContractStatus, ReminderSubject
from fieldservice.contracts.models import Contract, ExpiryReminder, ReminderSetting
from fieldservice.contracts.services.contracts import expire_contracts
from fieldservice.contracts.services.entitlement import covering_contract
from fieldservice.core.outbox import emit_many
from fieldservice.customers.models import Customer


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
