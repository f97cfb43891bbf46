from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.permissions import Capability, can

# (label, url name, capability needed, extra check on the user)
NAVIGATION = [
    (_("Home"), "home", None),
    (_("My work"), "field:today", Capability.WORK_IN_FIELD),
    (_("Service desk"), "workorders:desk", Capability.MANAGE_WORK_ORDERS),
    (_("Requests"), "workorders:request_list", Capability.VIEW_WORK_ORDERS),
    (_("Work orders"), "workorders:order_list", Capability.VIEW_WORK_ORDERS),
    (_("Dispatch"), "dispatch:queue", Capability.DISPATCH),
    (_("Dispatch board"), "board:board", Capability.DISPATCH),
    (_("Grab pool"), "pool:manage", Capability.DISPATCH),
    (_("Day plans"), "planning:runs", Capability.DISPATCH),
    (_("Partner orders"), "dispatch:provider_queue", Capability.ASSIGN_PROVIDER_ENGINEERS),
    (_("Overdue"), "sla:overdue", Capability.VIEW_EVENTS),
    (_("Absences"), "scheduling:absences", Capability.MANAGE_SCHEDULES),
    (_("Call backs"), "feedback:callbacks", Capability.CALL_BACK),
    (_("Knowledge base"), "knowledge:list", Capability.VIEW_KNOWLEDGE),
    (_("Customers"), "customers:list", Capability.VIEW_CUSTOMERS),
    (_("Contracts"), "contracts:list", Capability.VIEW_CONTRACTS),
    (_("Equipment"), "assets:equipment_list", Capability.VIEW_ASSETS),
    (_("Product models"), "assets:product_model_list", Capability.VIEW_ASSETS),
    (_("Parts"), "inventory:part_list", Capability.VIEW_PARTS),
    (_("Engineers"), "accounts:engineer_list", Capability.VIEW_PEOPLE),
    (_("Teams"), "accounts:team_list", Capability.VIEW_PEOPLE),
    (_("Users"), "accounts:user_list", Capability.MANAGE_PEOPLE),
    (_("Import"), "core:import", Capability.IMPORT_DATA),
    (_("Dispatch rules"), "dispatch:rules", Capability.MANAGE_DISPATCH_RULES),
    (_("Visit durations"), "scheduling:durations", Capability.MANAGE_SCHEDULES),
    (_("Service levels"), "sla:settings", Capability.MANAGE_SLA),
    (_("Notifications"), "notifications:manage", Capability.MANAGE_NOTIFICATIONS),
    (_("Webhooks"), "webhooks:list", Capability.MANAGE_WEBHOOKS),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    current = request.path
    items = []
    for label, url_name, capability in NAVIGATION:
        if capability is not None and not can(user, capability):
            continue
        items.append({"label": label, "url": reverse(url_name), "active": False})
    # Only the most specific entry is active: /dispatch/rules/ is "Dispatch rules", not also "Dispatch".
    matches = [item for item in items if item["url"] != "/" and current.startswith(item["url"])]
    matches += [item for item in items if item["url"] == "/" and current == "/"]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return {"navigation": items}
