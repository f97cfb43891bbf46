from django import template

from fieldservice.core.events import action_label
from fieldservice.workorders.choices import STATUS_COLOURS, RequestStatus
from fieldservice.workorders.forms import QrReportForm, category_name
from fieldservice.workorders.selectors import work_orders_for

register = template.Library()

REQUEST_COLOURS = {
    RequestStatus.UNCONFIRMED: "warn",
    RequestStatus.OPEN: "",
    RequestStatus.CONVERTED: "ok",
    RequestStatus.RESOLVED: "ok",
    RequestStatus.DISCARDED: "",
}


@register.inclusion_tag("workorders/_badge.html")
def order_status(order):
    return {"label": order.get_status_display(), "css": STATUS_COLOURS.get(order.status, "")}


@register.inclusion_tag("workorders/_badge.html")
def request_status(service_request):
    return {"label": service_request.get_status_display(), "css": REQUEST_COLOURS.get(service_request.status, "")}


@register.filter
def log_action(action: str):
    """The label of a service log action: a transition verb or a fact an app recorded."""
    return action_label(action)


@register.filter
def fault_category(category):
    return category_name(category) if category else ""


@register.inclusion_tag("workorders/_service_log.html")
def service_log_timeline(order):
    from fieldservice.workorders.selectors import service_log

    return {"events": service_log(order)}


@register.inclusion_tag("workorders/_equipment_history.html", takes_context=True)
def equipment_service_history(context, equipment, limit=20):
    """The machine's work orders the viewer may see, newest first."""
    user = context["request"].user
    orders = work_orders_for(user).filter(equipment=equipment).order_by("-created_at", "-pk")
    return {"orders": list(orders[:limit]), "request": context["request"]}


@register.inclusion_tag("workorders/_qr_report_form.html", takes_context=True)
def qr_report_form(context, equipment, form=None):
    """The fault report form on the public page; a fresh one unless the view passed a bound one."""
    return {
        "equipment": equipment,
        "form": form or QrReportForm(),
        "csrf_token": context.get("csrf_token"),
    }
