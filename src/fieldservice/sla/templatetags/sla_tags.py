"""The SLA panel of a work order page and helpers for the SLA pages.

{% load sla_tags %}{% sla_panel order %}
"""

from django import template
from django.utils.translation import gettext as _

from fieldservice.sla.selectors import clock_rows, clocks_for
from fieldservice.workorders.choices import Priority

register = template.Library()


@register.inclusion_tag("sla/_order_panel.html")
def sla_panel(order):
    """Each target of the order: due time, business time left, and met/breached/paused."""
    return {"order": order, "rows": clock_rows(clocks_for(order))}


@register.simple_tag
def sla_rows(clocks):
    """Rows with state and time left for a page of clocks: `{% sla_rows objects as rows %}`."""
    return clock_rows(clocks)


@register.filter
def business_duration(minutes) -> str:
    """Business minutes as "3 h 05 min" (the sign is left to the caller)."""
    if minutes is None:
        return ""
    total = int(abs(minutes))
    hours, rest = divmod(total, 60)
    if hours:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}
    return _("%(minutes)d min") % {"minutes": rest}


@register.filter
def priority_labels(codes) -> str:
    """["urgent", "high"] -> "Urgent, High"."""
    labels = dict(Priority.choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or ())
