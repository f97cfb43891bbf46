"""The appointment panel of the work order page:

{% load scheduling %}{% visit_panel order request.user %}
"""

from django import template

from fieldservice.scheduling.panel import panel_context

register = template.Library()


@register.inclusion_tag("scheduling/_visit_panel.html", takes_context=True)
def visit_panel(context, order, user):
    """The planned visit (window, start, duration, engineer, pinned), its conflicts, and the form
    to set it for those who may."""
    data = panel_context(order, user)
    data["csrf_token"] = context.get("csrf_token")
    data["request"] = context.get("request")
    return data


@register.filter
def minutes_as_hours(minutes) -> str:
    """90 -> "1:30"."""
    if minutes in (None, ""):
        return ""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours}:{rest:02d}"
