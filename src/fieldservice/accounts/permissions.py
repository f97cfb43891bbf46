"""What each role may do. Services and selectors ask `can(user, capability)`; nothing else
looks at role names, so a capability moves between roles in one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from fieldservice.accounts.choices import Role

if TYPE_CHECKING:
    # Annotations only: the role table loads without the app registry.
    from fieldservice.accounts.models import Organisation, User


class Capability(StrEnum):
    VIEW_CUSTOMERS = "customers.view"
    CHANGE_CUSTOMERS = "customers.change"
    VIEW_ASSETS = "assets.view"
    CHANGE_ASSETS = "assets.change"
    CHANGE_PRODUCT_MODELS = "assets.change_product_models"
    VIEW_PARTS = "inventory.view_parts"
    CHANGE_PARTS = "inventory.change_parts"
    VIEW_STOCK = "inventory.view_stock"
    MANAGE_STOCK = "inventory.manage_stock"
    REQUEST_PARTS = "inventory.request_parts"
    VIEW_PEOPLE = "accounts.view_people"
    MANAGE_PEOPLE = "accounts.manage_people"
    MANAGE_PROVIDER_ENGINEERS = "accounts.manage_provider_engineers"
    IMPORT_DATA = "core.import"
    VIEW_EVENTS = "core.view_events"
    VIEW_WORK_ORDERS = "workorders.view"
    FILE_REQUESTS = "workorders.file_requests"
    MANAGE_WORK_ORDERS = "workorders.manage"
    DISPATCH = "dispatch.dispatch"
    ASSIGN_PROVIDER_ENGINEERS = "dispatch.assign_provider_engineers"
    WORK_IN_FIELD = "field.work"
    CALL_BACK = "feedback.call_back"
    REVIEW_EVALUATIONS = "feedback.review_evaluations"
    MANAGE_KNOWLEDGE = "knowledge.manage"
    VIEW_KNOWLEDGE = "knowledge.view"
    VIEW_CONTRACTS = "contracts.view"
    MANAGE_CONTRACTS = "contracts.manage"
    MANAGE_SLA = "sla.manage"
    MANAGE_NOTIFICATIONS = "notifications.manage"
    MANAGE_WEBHOOKS = "webhooks.manage"
    MANAGE_DISPATCH_RULES = "dispatch.manage_rules"
    GRAB_ORDERS = "pool.grab"
    MANAGE_SCHEDULES = "scheduling.manage"
    VIEW_BILLING = "billing.view"
    MANAGE_BILLING = "billing.manage"
    MANAGE_SETTLEMENT = "billing.settle"
    VIEW_OWN_STATEMENTS = "billing.own_statements"
    MANAGE_JOB_TEMPLATES = "field.manage_templates"
    VIEW_MAINTENANCE = "maintenance.view"
    MANAGE_MAINTENANCE = "maintenance.manage"
    MANAGE_CAMPAIGNS = "maintenance.campaigns"
    MANAGE_CARE = "maintenance.care"
    # Connected machines: their live data (scoped like the machines), and the devices, alarm codes
    # and rules behind it (the administrator's).
    VIEW_MACHINE_DATA = "iot.view"
    MANAGE_DEVICES = "iot.manage"


C = Capability
ROLE_CAPABILITIES: dict[str, set[Capability]] = {
    Role.CUSTOMER: {
        C.VIEW_CUSTOMERS,
        C.VIEW_ASSETS,
        C.VIEW_WORK_ORDERS,
        C.FILE_REQUESTS,
        C.VIEW_CONTRACTS,
        C.VIEW_MAINTENANCE,
        C.VIEW_MACHINE_DATA,
    },
    Role.AGENT: {
        C.VIEW_CUSTOMERS,
        C.CHANGE_CUSTOMERS,
        C.VIEW_ASSETS,
        C.CHANGE_ASSETS,
        C.VIEW_PARTS,
        C.VIEW_PEOPLE,
        C.IMPORT_DATA,
        C.VIEW_EVENTS,
        C.VIEW_WORK_ORDERS,
        C.FILE_REQUESTS,
        C.MANAGE_WORK_ORDERS,
        C.CALL_BACK,
        C.REVIEW_EVALUATIONS,
        C.VIEW_KNOWLEDGE,
        C.MANAGE_KNOWLEDGE,
        C.VIEW_CONTRACTS,
        C.VIEW_BILLING,
        C.MANAGE_BILLING,
        C.VIEW_MAINTENANCE,
        C.MANAGE_CARE,
        C.VIEW_MACHINE_DATA,
    },
    Role.DISPATCHER: {
        C.VIEW_CUSTOMERS,
        C.VIEW_ASSETS,
        C.VIEW_PARTS,
        C.VIEW_PEOPLE,
        C.VIEW_EVENTS,
        C.VIEW_WORK_ORDERS,
        C.FILE_REQUESTS,
        C.MANAGE_WORK_ORDERS,
        C.VIEW_STOCK,
        C.DISPATCH,
        C.MANAGE_DISPATCH_RULES,
        C.MANAGE_SCHEDULES,
        C.REVIEW_EVALUATIONS,
        C.VIEW_KNOWLEDGE,
        C.VIEW_CONTRACTS,
        C.VIEW_MAINTENANCE,
        C.MANAGE_MAINTENANCE,
        C.VIEW_MACHINE_DATA,
    },
    Role.ENGINEER: {
        C.VIEW_CUSTOMERS,
        C.VIEW_ASSETS,
        C.VIEW_PARTS,
        C.VIEW_WORK_ORDERS,
        C.WORK_IN_FIELD,
        C.REQUEST_PARTS,
        C.GRAB_ORDERS,
        C.VIEW_KNOWLEDGE,
        C.VIEW_OWN_STATEMENTS,
        C.VIEW_MACHINE_DATA,
    },
    Role.PROVIDER_ADMIN: {
        C.VIEW_CUSTOMERS,
        C.VIEW_ASSETS,
        C.VIEW_PARTS,
        C.VIEW_PEOPLE,
        C.MANAGE_PROVIDER_ENGINEERS,
        C.VIEW_STOCK,
        C.MANAGE_STOCK,
        C.VIEW_WORK_ORDERS,
        C.FILE_REQUESTS,
        C.ASSIGN_PROVIDER_ENGINEERS,
        C.VIEW_KNOWLEDGE,
        C.VIEW_OWN_STATEMENTS,
        C.VIEW_MAINTENANCE,
        C.VIEW_MACHINE_DATA,
    },
    Role.PARTS_KEEPER: {
        C.VIEW_ASSETS,
        C.VIEW_PARTS,
        C.CHANGE_PARTS,
        C.VIEW_STOCK,
        C.MANAGE_STOCK,
        C.IMPORT_DATA,
        C.VIEW_CUSTOMERS,
        C.VIEW_WORK_ORDERS,
    },
    Role.DIRECTOR: {
        C.VIEW_CUSTOMERS,
        C.VIEW_ASSETS,
        C.VIEW_PARTS,
        C.VIEW_STOCK,
        C.VIEW_PEOPLE,
        C.VIEW_EVENTS,
        C.VIEW_WORK_ORDERS,
        C.VIEW_KNOWLEDGE,
        C.VIEW_CONTRACTS,
        C.MANAGE_CONTRACTS,
        # Directors read the ratings; calling customers back is the agents' job.
        C.REVIEW_EVALUATIONS,
        # The service manager's money: approving and settling statements, reading margins.
        C.VIEW_BILLING,
        C.MANAGE_BILLING,
        C.MANAGE_SETTLEMENT,
        # Proactive service: the director owns the plans, the recalls and the customer care.
        C.VIEW_MAINTENANCE,
        C.MANAGE_MAINTENANCE,
        C.MANAGE_CAMPAIGNS,
        C.MANAGE_CARE,
        C.VIEW_MACHINE_DATA,
    },
    Role.ADMINISTRATOR: set(Capability),
}


def works_only_in_field(user) -> bool:
    """An engineer and nothing else: his home is the phone work list, not the desk."""
    return bool(user.is_authenticated and not user.is_superuser and user.role_codes == {"engineer"})


def can(user, capability: Capability) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(capability in ROLE_CAPABILITIES.get(role, ()) for role in user.role_codes)


def may_manage_people_of(actor: User, organisation: Organisation | None) -> bool:
    """Administrators manage everyone; a provider admin manages the engineers of their own company."""
    if can(actor, Capability.MANAGE_PEOPLE):
        return True
    return (
        organisation is not None
        and can(actor, Capability.MANAGE_PROVIDER_ENGINEERS)
        and actor.organisation_id == organisation.pk
    )


def may_manage_user(actor: User, user: User) -> bool:
    """Account changes (details, active flag): a provider admin may touch only the plain engineers
    of their company, not a fellow provider admin."""
    if can(actor, Capability.MANAGE_PEOPLE):
        return True
    return may_manage_people_of(actor, user.organisation) and user.role_codes <= {Role.ENGINEER}
