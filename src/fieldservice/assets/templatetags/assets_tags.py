from django import template

from fieldservice.assets.choices import EquipmentStatus, WarrantyState

register = template.Library()

WARRANTY_CSS = {
    WarrantyState.IN_WARRANTY: "ok",
    WarrantyState.EXPIRED: "bad",
    WarrantyState.NOT_STARTED: "warn",
    WarrantyState.UNKNOWN: "",
}


@register.inclusion_tag("assets/_warranty_badge.html")
def warranty_badge(equipment):
    state = equipment.warranty_state()
    return {"state": state, "css": WARRANTY_CSS[state], "equipment": equipment}


@register.inclusion_tag("assets/_status_badge.html")
def status_badge(equipment):
    return {"equipment": equipment, "css": "ok" if equipment.status == EquipmentStatus.REGISTERED else "bad"}
