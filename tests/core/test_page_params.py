"""No page answers a server error to a hostile query string: a page number past any database
offset, ids past any database integer, NUL bytes, dates out of the calendar. Every page without
arguments in the URL configuration is tried, so a new list page is covered without a new test."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from fieldservice.customers.models import Customer

HUGE = "99999999999999999999"
HOSTILE = {
    "page": HUGE,
    "q": "pump\x00",
    "customer": HUGE,
    "engineer": HUGE,
    "team": HUGE,
    "organisation": HUGE,
    "provider": HUGE,
    "site": HUGE,
    "product_model": HUGE,
    "fault_category": HUGE,
    "area": HUGE,
    "status": "\x00",
    "priority": HUGE,
    "expiring_within": "3000000",
    "day": "0001-01-01",
    "date": "99999-01-01",
    "start": "0000-00-00",
    "end": "9999-12-31T23:59:59",
    "week": HUGE,
    "month": HUGE,
    "year": HUGE,
}
SKIPPED_PREFIXES = ("api/", "admin/", "static/", "media/", "accounts/logout", "i18n/", "__")


def _pages(patterns=None, prefix=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from _pages(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route.lstrip("^").rstrip("$")


PAGES = sorted(set(_pages()))


def test_the_pages_are_found():
    assert len(PAGES) > 20


@pytest.mark.parametrize("path", PAGES)
def test_no_page_answers_a_server_error_to_hostile_parameters(client_for, personas, path):
    client = client_for(personas.admin)
    odd_digits = {name: "²" for name in ("customer", "equipment", "fault_category", "organisation", "team", "year")}
    for params in (HOSTILE, {"page": HUGE}, {"page": "-1"}, {"customer": "-" + HUGE}, odd_digits):
        response = client.get(path, params)
        assert response.status_code < 500, (path, params)


def test_a_nul_byte_in_a_posted_form_is_refused_at_the_door(client_for, personas):
    """PostgreSQL cannot compare text holding NUL; a form field no view validates must not reach it."""
    response = client_for(personas.admin).post("/customers/new/", {"name": "Acme\x00", "kind": "company"})
    assert response.status_code == 400
    assert not Customer.objects.filter(name__startswith="Acme").exists()
