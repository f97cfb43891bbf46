"""The `fsm` template tags every page may load: an object's history (shown to those allowed to
see it) and the labels of its lines. They live in accounts, the lowest app that knows who may
see what, so that the templates of every app above may load them."""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.events import action_label as event_action_label
from fieldservice.core.events import change_label
from fieldservice.core.models import Event

register = template.Library()


@register.inclusion_tag("accounts/_event_log.html", takes_context=True)
def event_log(context, obj, limit=50):
    """The history of `obj` and of its children (events whose `related` is `obj`)."""
    user = context["request"].user
    events = []
    if can(user, Capability.VIEW_EVENTS) or can(user, Capability.VIEW_ASSETS):
        content_type = ContentType.objects.get_for_model(obj)
        events = list(
            Event.objects.filter(
                Q(content_type=content_type, object_pk=str(obj.pk))
                | Q(related_content_type=content_type, related_object_pk=str(obj.pk))
            ).select_related("actor")[:limit]
        )
    return {"events": events, "request": context["request"]}


@register.filter
def field_label(event, field_name):
    """The translated label of a changed field (core.events.change_label)."""
    return change_label(event.content_type.model_class(), field_name)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def action_label(action):
    return event_action_label(action)


@register.filter
def change_value(value):
    """A value of a logged change as people read it: yes or no for a flag, the items of a list,
    a dash for nothing (the log stores them as JSON: True, ["a", "b"], None)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return pgettext("between the items of a list", ", ").join(str(item) for item in value) if value else "—"
    return value
