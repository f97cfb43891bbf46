"""A list declared once (core.listing.Listing) draws the page's table, its filter bar and its
export from the same columns."""

from io import BytesIO
from types import SimpleNamespace

from django import forms
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails
from openpyxl import load_workbook

from fieldservice.core.listing import Column, Listing


class ColourFilter(forms.Form):
    colour = forms.ChoiceField(label="Colour", required=False, choices=[("", "All colours"), ("red", "Red")])


LISTING = Listing(
    columns=[
        Column("Name", lambda row: row.name, link=lambda row: f"/things/{row.pk}/"),
        Column("Code", lambda row: row.code, page=False),
        Column("Colour", lambda row: row.colour, default="—", badge=lambda row: "ok" if row.colour else ""),
        Column("Flag", cell="<b>{{ row.name }}</b>", export=False, when="may_flag"),
    ],
    filter_form=ColourFilter,
    search="Name or code",
    row_id="thing",
    empty="Nothing yet.",
    empty_filtered="Nothing matches.",
    export_name="things",
    export_title="Things",
)
ROWS = [
    SimpleNamespace(pk=1, name="Pump <A>", code="P1", colour="red"),
    SimpleNamespace(pk=2, name="Valve", code="V2", colour=""),
]


def _get(params=None, *, htmx=False, user=None):
    request = RequestFactory().get("/things/", params or {}, headers={"HX-Request": "true"} if htmx else {})
    request.htmx = HtmxDetails(request)
    request.user = user or SimpleNamespace(is_authenticated=False)
    return request


def test_the_table_shows_the_page_columns_with_links_badges_and_defaults(db):
    html = LISTING.render(_get(htmx=True), "unused.html", ROWS).content.decode()
    assert html.count("<th>") == 2 and "<th>Code</th>" not in html
    assert '<tr id="thing-1"><td><a href="/things/1/">Pump &lt;A&gt;</a></td>' in html
    assert '<span class="badge ok">red</span>' in html and '<span class="badge">—</span>' in html
    assert "Export to Excel" in html


def test_a_page_column_may_need_a_flag_of_the_page(db):
    html = LISTING.render(_get(htmx=True), "unused.html", ROWS, context={"may_flag": True}).content.decode()
    assert "<th>Flag</th>" in html and "<td><b>Valve</b></td>" in html


def test_the_empty_state_says_whether_a_search_or_filter_found_nothing(db):
    assert "Nothing yet." in LISTING.render(_get(htmx=True), "unused.html", []).content.decode()
    for params in ({"q": "x"}, {"colour": "red"}):
        html = LISTING.render(_get(params, htmx=True), "unused.html", [], filters=LISTING.filters(_get(params)))
        assert "Nothing matches." in html.content.decode()


def test_the_export_has_the_export_columns_in_their_order(db):
    response = LISTING.render(_get({"export": "xlsx"}), "unused.html", ROWS)
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows == [("Name", "Code", "Colour"), ("Pump <A>", "P1", "red"), ("Valve", "V2", None)]
