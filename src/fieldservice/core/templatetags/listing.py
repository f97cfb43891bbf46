from django import template
from django.utils.encoding import force_str
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def list_cell(context, column, row):
    """One cell of a declared list (see core/listing.py)."""
    return column.render_cell(row, context)


@register.simple_tag
def row_attributes(listing, row):
    return listing.row_attributes(row)


@register.simple_tag(takes_context=True)
def filter_widget(context, field, per_control=False):
    """One filter of a declared list: with its label, or (short of room) with a label only screen
    readers speak. `per_control`: the filter itself asks for the results when it changes."""
    listing = context["listing"]
    if listing.filter_labels:
        return format_html('<label class="filter">{} {}</label>', field.label, field)
    attrs = {"aria-label": force_str(field.label)}
    if per_control:
        path = context["request"].path
        attrs |= {
            "hx-get": path,
            "hx-target": "#results",
            "hx-swap": "outerHTML",
            "hx-include": "closest form",
            "hx-push-url": "true",
        }
    return field.as_widget(attrs=attrs)
