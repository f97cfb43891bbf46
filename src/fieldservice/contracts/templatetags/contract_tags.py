"""Entitlement and coverage panels for the work order, request and equipment pages.

    {% load contract_tags %}
    {% entitlement_panel order %}             what the order got when it was created, and why
    {% request_entitlement service_request %} what an order made from the request today would get
    {% equipment_coverage equipment %}        the machine's warranty and contracts

Whoever may see the page sees the entitlement (an engineer or provider must know whether to
charge the visit); the link to the contract only shows to those who may see the contract.
"""

from django import template
from django.urls import reverse
from django.utils import timezone

from fieldservice.contracts.choices import ENTITLEMENT_COLOURS, STATUS_COLOURS, Entitlement
from fieldservice.contracts.selectors import contracts_for, contracts_of_equipment
from fieldservice.contracts.services import decide_entitlement, entitlement_for_request

register = template.Library()


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


def _contract_url(user, contract) -> str | None:
    if contract is None or user is None:
        return None
    if not contracts_for(user).filter(pk=contract.pk).exists():
        return None
    return reverse("contracts:detail", args=[contract.pk])


def _panel(user, *, entitlement: str, reason: str, contract, sla_policy, live: bool) -> dict:
    return {
        "entitlement": entitlement,
        "label": Entitlement(entitlement).label if entitlement in Entitlement.values else "",
        "css": ENTITLEMENT_COLOURS.get(entitlement, ""),
        "reason": reason,
        "contract": contract,
        "contract_url": _contract_url(user, contract),
        "sla_policy": sla_policy,
        "live": live,
    }


@register.inclusion_tag("contracts/_entitlement_panel.html", takes_context=True)
def entitlement_panel(context, order):
    """What the order was entitled to when it was created (kept on the order)."""
    return _panel(
        _user(context),
        entitlement=order.entitlement,
        reason=order.entitlement_reason,
        contract=order.contract if order.contract_id else None,
        sla_policy=order.sla_policy if order.sla_policy_id else None,
        live=False,
    )


@register.inclusion_tag("contracts/_entitlement_panel.html", takes_context=True)
def request_entitlement(context, service_request):
    """What a work order made from the request today would be entitled to."""
    decision = entitlement_for_request(service_request)
    if decision is None:
        return {"entitlement": "", "live": True, "no_customer": True}
    return _panel(
        _user(context),
        entitlement=decision.entitlement,
        reason=decision.reason,
        contract=decision.contract,
        sla_policy=decision.sla_policy,
        live=True,
    )


@register.inclusion_tag("contracts/_equipment_coverage.html", takes_context=True)
def equipment_coverage(context, equipment):
    """The machine's warranty, what a visit today would get, and the contracts over it."""
    user = _user(context)
    today = timezone.localdate()
    decision = decide_entitlement(customer=equipment.customer, equipment=equipment, priority="normal", on=today)
    contracts = list(contracts_of_equipment(user, equipment)[:20]) if user is not None else []
    return {
        "equipment": equipment,
        "warranty_state": equipment.warranty_state(today),
        "today": today,
        "decision": _panel(
            user,
            entitlement=decision.entitlement,
            reason=decision.reason,
            contract=decision.contract,
            sla_policy=decision.sla_policy,
            live=True,
        ),
        "contracts": contracts,
    }


@register.inclusion_tag("contracts/_status_badge.html")
def contract_status(contract):
    return {"label": contract.get_status_display(), "css": STATUS_COLOURS.get(contract.status, "")}


@register.simple_tag
def days_until(day, today=None):
    today = today or timezone.localdate()
    return (day - today).days
