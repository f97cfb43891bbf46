"""What a work order is entitled to.

`decide_entitlement` says, when a work order is created, whether the visit is under warranty,
under contract or chargeable, and which SLA policy applies; the order keeps the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.assets.models import Equipment
from fieldservice.contracts.choices import ContractStatus, Entitlement
from fieldservice.contracts.models import Contract, SlaPolicy
from fieldservice.core.choices import WorkOrderStatus
from fieldservice.core.db import any_of
from fieldservice.customers.models import Customer


def default_policy(customer: Customer | None):
    """The policy for the customer's tier, else the default policy."""
    if customer is not None and customer.tier:
        policy = SlaPolicy.objects.filter(is_active=True, customer_tier=customer.tier).order_by("pk").first()
        if policy is not None:
            return policy
    return SlaPolicy.objects.filter(is_active=True, is_default=True).first()


def visits_used(contract: Contract) -> int:
    return contract.work_orders.exclude(status=WorkOrderStatus.CANCELLED).count()


def visits_left(contract: Contract) -> int | None:
    if contract.included_visits is None:
        return None
    return max(contract.included_visits - visits_used(contract), 0)


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
    One visit is a batch of one: `decide_entitlements` holds the rules.
    """
    return decide_entitlements([EntitlementCase(customer, equipment, priority)], on=on)[0]


@dataclass(frozen=True)
class EntitlementCase:
    """One visit to decide: the customer, the machine (or None) and the priority."""

    customer: Customer | None
    equipment: Equipment | None
    priority: str


def _covering_contracts(equipment_ids: list[int], on: dt.date) -> dict[int, Contract]:
    """{machine id: the active contract covering it on `on`}, in two queries for any number."""
    if not equipment_ids:
        return {}
    links = (
        Contract.equipment.through.objects.filter(
            equipment_id__in=any_of(equipment_ids),
            contract__status=ContractStatus.ACTIVE,
            contract__starts_on__lte=on,
            contract__ends_on__gte=on,
        )
        .order_by("contract__starts_on", "contract_id")
        .values_list("equipment_id", "contract_id")
    )
    first: dict[int, int] = {}
    for equipment_id, contract_id in links:
        first.setdefault(equipment_id, contract_id)
    contracts = Contract.objects.select_related("sla_policy", "customer").in_bulk(set(first.values()))
    return {equipment_id: contracts[contract_id] for equipment_id, contract_id in first.items()}


def decide_entitlements(cases: list[EntitlementCase], *, on=None) -> list[EntitlementDecision]:
    """The decisions for many visits at once (a maintenance run opens thousands), in a few
    queries; the visits of one contract are counted one after the other, in the order given."""
    on = on or timezone.localdate()
    policies: dict[str, object] = {}

    def fallback(customer):
        tier = customer.tier if customer is not None else None
        if tier not in policies:
            policies[tier] = default_policy(customer)
        return policies[tier]

    covering = _covering_contracts([case.equipment.pk for case in cases if case.equipment is not None], on)
    limited = sorted({c.pk for c in covering.values() if c.included_visits is not None})
    used: dict[int, int] = {}
    if limited:
        if transaction.get_connection().in_atomic_block:
            # Orders made at once for one contract count its visits one after the other.
            list(Contract.objects.select_for_update().filter(pk__in=limited).order_by("pk").values_list("pk"))
        used = dict(
            Contract.objects.filter(pk__in=limited)
            .annotate(n=Count("work_orders", filter=~Q(work_orders__status=WorkOrderStatus.CANCELLED)))
            .values_list("pk", "n")
        )
    # Translated once for the batch, not once per visit.
    no_machine = _("No machine chosen: warranty and contracts cover named machines only")
    in_warranty_under = _("In warranty until %(date)s; response times of contract %(number)s apply")
    in_warranty = _("In warranty until %(date)s")
    uncovered = _("No warranty or contract covers this machine")
    under_contract = _("Under contract %(number)s (%(level)s) until %(date)s")
    under_contract_visit = _("Under contract %(number)s (%(level)s) until %(date)s; visit %(visit)d of %(total)d")
    visits_used = _(
        "Contract %(number)s covers this machine, but all %(total)d included visits are used; this visit is chargeable"
    )
    decisions = []
    for case in cases:
        equipment = case.equipment
        if equipment is None:
            decisions.append(
                EntitlementDecision(
                    Entitlement.CHARGEABLE,
                    no_machine,
                    None,
                    fallback(case.customer),
                )
            )
            continue
        contract = covering.get(equipment.pk)
        if _in_warranty(equipment, on):
            ends = equipment.warranty_ends_on.isoformat()
            if contract is not None:
                reason = in_warranty_under % {
                    "date": ends,
                    "number": contract.number,
                }
                decisions.append(EntitlementDecision(Entitlement.WARRANTY, reason[:300], None, contract.sla_policy))
            else:
                decisions.append(
                    EntitlementDecision(
                        Entitlement.WARRANTY,
                        in_warranty % {"date": ends},
                        None,
                        fallback(case.customer),
                    )
                )
            continue
        if contract is None:
            decisions.append(
                EntitlementDecision(
                    Entitlement.CHARGEABLE,
                    uncovered,
                    None,
                    fallback(case.customer),
                )
            )
            continue
        details = {
            "number": contract.number,
            "level": contract.get_level_display(),
            "date": contract.ends_on.isoformat(),
        }
        if contract.included_visits is None:
            reason = under_contract % details
            decisions.append(EntitlementDecision(Entitlement.CONTRACT, reason[:300], contract, contract.sla_policy))
            continue
        count = used.get(contract.pk, 0)
        if count < contract.included_visits:
            used[contract.pk] = count + 1
            reason = under_contract_visit % (details | {"visit": count + 1, "total": contract.included_visits})
            decisions.append(EntitlementDecision(Entitlement.CONTRACT, reason[:300], contract, contract.sla_policy))
            continue
        reason = visits_used % {"number": contract.number, "total": contract.included_visits}
        decisions.append(EntitlementDecision(Entitlement.CHARGEABLE, reason[:300], None, contract.sla_policy))
    return decisions


def entitlement_for_request(request) -> EntitlementDecision | None:
    """What a work order made from this request today would get (None without a customer)."""
    if request.customer_id is None:
        return None
    return decide_entitlement(customer=request.customer, equipment=request.equipment, priority=request.priority)
