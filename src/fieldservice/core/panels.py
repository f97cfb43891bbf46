"""Panels that a higher app adds to a lower app's page.

A page that shows rows of apps above its own (an order's engineers, a customer's machines, a
contract's work orders) cannot import them: the layers forbid it. The page names a slot instead
and renders what the apps above registered there, in the order they registered (their `ready()`,
so the order of INSTALLED_APPS). A panel is `panel(request, obj) -> str`: the HTML for the user of
the request, or "" to show nothing; it scopes its own rows to that user.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[[HttpRequest, Any], str]

_panels: dict[str, list[Panel]] = {}


def register(slot: str, panel: Panel) -> None:
    """Show `panel` on the pages of `slot` ("workorders.order", "customers.customer", …)."""
    panels = _panels.setdefault(slot, [])
    if panel not in panels:
        panels.append(panel)


def render(slot: str, request: HttpRequest, obj: Any) -> SafeString:
    """The HTML of every panel registered for `slot`, for the page of `obj`."""
    # A panel's rendered template is safe markup already; a plain string is escaped, so a panel
    # that returns text by mistake cannot inject HTML into the page.
    return mark_safe("".join(conditional_escape(panel(request, obj)) for panel in _panels.get(slot, ())))  # noqa: S308
