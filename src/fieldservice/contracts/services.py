"""Contracts and entitlements. (First cut: every visit is chargeable on the default policy.)"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from fieldservice.contracts.choices import Entitlement


@dataclass(frozen=True)
class EntitlementDecision:
    entitlement: str
    reason: str
    contract: object | None
    sla_policy: object | None


def decide_entitlement(*, customer, equipment, priority, on=None) -> EntitlementDecision:
    from fieldservice.sla.models import SlaPolicy

    policy = SlaPolicy.objects.filter(is_default=True, is_active=True).first()
    return EntitlementDecision(Entitlement.CHARGEABLE, _("No warranty or contract covers this visit."), None, policy)
