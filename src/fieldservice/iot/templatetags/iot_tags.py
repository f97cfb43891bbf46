from django import template

from fieldservice.iot.metrics import metric_label as label_of

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    return label_of(name)
