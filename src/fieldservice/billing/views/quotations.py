"""Quotation pages (work in progress)."""


def order_panel(request, order) -> str:
    return ""


def phone_panel(request, order) -> str:
    return ""
