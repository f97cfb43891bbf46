from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fieldservice.accounts.permissions import Capability, can, works_only_in_field

# The desk menu, grouped by area so that 30 pages stay findable. Each entry is (label, url name,
# capability needed); a group the user sees only one entry of shows as that entry.
NAVIGATION = [
    (
        None,
        [
            (_("Home"), "home", None),
            (_("My work"), "field:today", Capability.WORK_IN_FIELD),
        ],
    ),
    (
        pgettext_lazy("menu group", "Service"),
        [
            (_("Service desk"), "workorders:desk", Capability.MANAGE_WORK_ORDERS),
            (_("Requests"), "workorders:request_list", Capability.VIEW_WORK_ORDERS),
            (_("Work orders"), "workorders:order_list", Capability.VIEW_WORK_ORDERS),
            (_("Evaluations"), "feedback:evaluations", Capability.REVIEW_EVALUATIONS),
            (_("Call backs"), "feedback:callbacks", Capability.CALL_BACK),
            (_("Knowledge base"), "knowledge:list", Capability.VIEW_KNOWLEDGE),
        ],
    ),
    (
        pgettext_lazy("menu group", "Dispatch"),
        [
            (_("Dispatch"), "dispatch:queue", Capability.DISPATCH),
            (_("Dispatch board"), "board:board", Capability.DISPATCH),
            (_("Grab pool"), "pool:manage", Capability.DISPATCH),
            (_("Day plans"), "planning:runs", Capability.DISPATCH),
            (_("Partner orders"), "dispatch:provider_queue", Capability.ASSIGN_PROVIDER_ENGINEERS),
            # The provider's own statements (the settlement manager has them under Money).
            (_("Our statements"), "billing:statement_list", Capability.ASSIGN_PROVIDER_ENGINEERS),
            (_("Overdue"), "sla:overdue", Capability.VIEW_EVENTS),
            (_("Absences"), "scheduling:absences", Capability.MANAGE_SCHEDULES),
        ],
    ),
    (
        # Proactive service (主动服务) beside the machines it keeps running.
        pgettext_lazy("menu group", "Machines and maintenance"),
        [
            (_("Equipment"), "assets:equipment_list", Capability.VIEW_ASSETS),
            (_("Product models"), "assets:product_model_list", Capability.VIEW_ASSETS),
            (_("Maintenance plans"), "maintenance:plan_list", Capability.VIEW_MAINTENANCE),
            (_("Due visits"), "maintenance:due_list", Capability.VIEW_MAINTENANCE),
            (_("Maintenance calendar"), "maintenance:calendar", Capability.VIEW_MAINTENANCE),
            (_("Inspections"), "maintenance:inspection_list", Capability.VIEW_MAINTENANCE),
            (_("Campaigns"), "maintenance:campaign_list", Capability.VIEW_MAINTENANCE),
            (_("Connected machines"), "iot:machines_overview", Capability.VIEW_MACHINE_DATA),
            (_("Machine alarms"), "iot:alarms", Capability.VIEW_MACHINE_DATA),
        ],
    ),
    (
        pgettext_lazy("menu group", "Spare parts"),
        [
            (_("Parts"), "inventory:part_list", Capability.VIEW_PARTS),
            (_("Stock"), "inventory:stock_list", Capability.VIEW_STOCK),
            (_("Warehouses"), "inventory:warehouse_list", Capability.VIEW_STOCK),
            (_("Requisitions and transfers"), "inventory:transfer_list", Capability.VIEW_STOCK),
            (_("Defective parts owed"), "inventory:defect_list", Capability.VIEW_STOCK),
            (_("Returns to the factory"), "inventory:factory_return_list", Capability.VIEW_STOCK),
            (_("Stock counts"), "inventory:count_list", Capability.VIEW_STOCK),
            (_("Stock levels"), "inventory:levels_list", Capability.VIEW_STOCK),
        ],
    ),
    (
        pgettext_lazy("menu group", "Customers and contracts"),
        [
            (_("Customers"), "customers:list", Capability.VIEW_CUSTOMERS),
            (_("Contracts"), "contracts:list", Capability.VIEW_CONTRACTS),
            (_("Customer care"), "maintenance:care_plans", Capability.MANAGE_CARE),
            (_("My care tasks"), "maintenance:care_tasks", Capability.MANAGE_CARE),
        ],
    ),
    (
        pgettext_lazy("menu group", "Money"),
        [
            (_("Quotations"), "billing:quotation_list", Capability.VIEW_BILLING),
            (_("Bills"), "billing:bill_list", Capability.VIEW_BILLING),
            (_("Receivables"), "billing:receivables", Capability.VIEW_BILLING),
            (_("Cost and margin"), "billing:margin_orders", Capability.VIEW_BILLING),
            (_("Settlement statements"), "billing:statement_list", Capability.MANAGE_SETTLEMENT),
            (_("Settlement rules"), "billing:settlement_rule_list", Capability.MANAGE_SETTLEMENT),
        ],
    ),
    (
        pgettext_lazy("menu group", "People"),
        [
            (_("Engineers"), "accounts:engineer_list", Capability.VIEW_PEOPLE),
            (_("Teams"), "accounts:team_list", Capability.VIEW_PEOPLE),
            (_("Users"), "accounts:user_list", Capability.MANAGE_PEOPLE),
        ],
    ),
    (
        pgettext_lazy("menu group", "Settings"),
        [
            (_("Import"), "site:import", Capability.IMPORT_DATA),
            (_("Dispatch rules"), "dispatch:rules", Capability.MANAGE_DISPATCH_RULES),
            (_("Visit durations"), "scheduling:durations", Capability.MANAGE_SCHEDULES),
            (_("Service levels"), "sla:settings", Capability.MANAGE_SLA),
            (_("Job templates"), "job_templates:list", Capability.MANAGE_JOB_TEMPLATES),
            (_("Notifications"), "notifications:manage", Capability.MANAGE_NOTIFICATIONS),
            (_("Webhooks"), "webhooks:list", Capability.MANAGE_WEBHOOKS),
            (_("Alarm codes and rules"), "iot:alarm_codes", Capability.MANAGE_DEVICES),
            (_("Devices"), "iot:devices", Capability.MANAGE_DEVICES),
        ],
    ),
]


def navigation(request):
    """`navigation`: the groups the user sees, each {"label", "items", "active"}; a group
    without a label (or with one item) is drawn as plain links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    current = request.path
    # "Home" would only lead an engineer to "My work" a second time.
    hidden = {"home"} if works_only_in_field(user) else set()
    groups = []
    for label, entries in NAVIGATION:
        items = [
            {"label": item_label, "url": reverse(url_name), "active": False}
            for item_label, url_name, capability in entries
            if (capability is None or can(user, capability)) and url_name not in hidden
        ]
        if items:
            groups.append({"label": label if len(items) > 1 else None, "items": items, "active": False})
    items = [item for group in groups for item in group["items"]]
    # Only the most specific entry is active: /dispatch/rules/ is "Dispatch rules", not also "Dispatch".
    matches = [item for item in items if item["url"] != "/" and current.startswith(item["url"])]
    matches += [item for item in items if item["url"] == "/" and current == "/"]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    for group in groups:
        group["active"] = any(item["active"] for item in group["items"])
    return {"navigation": groups}
