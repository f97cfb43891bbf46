from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def list_cell(context, column, row):
    """One cell of a declared list (see core/listing.py)."""
    return column.render_cell(row, context)
