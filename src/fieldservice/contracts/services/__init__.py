"""Contract services, by topic: contracts (draft, activate, extend, terminate, expire), what an
order is entitled to (`entitlement`), the expiry reminders of the periodic check (`reminders`)
and price lists (`prices`). Callers use `from fieldservice.contracts import services` and
`services.<name>`; the names are re-exported here."""

from fieldservice.contracts.services.contracts import (
    ALWAYS_EDITABLE,
    CONTRACT_FIELDS,
    EXTENSION_TERMS,
    NOTES_MAX_LENGTH,
    activate_contract,
    contract_periods,
    create_contract,
    expire_contracts,
    extend_contract,
    terminate_contract,
    update_contract,
)
from fieldservice.contracts.services.entitlement import (
    EntitlementCase,
    EntitlementDecision,
    covering_contract,
    decide_entitlement,
    decide_entitlements,
    default_policy,
    entitlement_for_request,
    visits_left,
    visits_used,
)
from fieldservice.contracts.services.fields import FEE_MAX
from fieldservice.contracts.services.prices import (
    PRICE_LIST_FIELDS,
    create_price_list,
    default_price_list,
    most_specific,
    price_for,
    price_of,
    remove_price,
    set_price,
    update_price_list,
)
from fieldservice.contracts.services.reminders import reminder_days, reminder_recipients, send_expiry_reminders

__all__ = [
    "EntitlementCase",
    "decide_entitlements",
    "ALWAYS_EDITABLE",
    "CONTRACT_FIELDS",
    "EXTENSION_TERMS",
    "FEE_MAX",
    "NOTES_MAX_LENGTH",
    "PRICE_LIST_FIELDS",
    "EntitlementDecision",
    "activate_contract",
    "contract_periods",
    "covering_contract",
    "create_contract",
    "create_price_list",
    "decide_entitlement",
    "default_policy",
    "entitlement_for_request",
    "expire_contracts",
    "extend_contract",
    "default_price_list",
    "most_specific",
    "price_for",
    "price_of",
    "reminder_days",
    "reminder_recipients",
    "remove_price",
    "send_expiry_reminders",
    "set_price",
    "terminate_contract",
    "update_contract",
    "update_price_list",
    "visits_left",
    "visits_used",
]
