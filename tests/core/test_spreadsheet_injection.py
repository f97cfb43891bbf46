"""Formula injection: text from users is exported as text cells, never as formulas, on every list
export; the importer stores a formula cell's text, not what a spreadsheet program computed."""

import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import Workbook, load_workbook

from fieldservice.core import importing
from fieldservice.core.listing import Column, xlsx_response
from fieldservice.customers.models import Customer
from tests import factories
from tests.site.test_import import apply, preview, xlsx_upload

PAYLOADS = ["=1+2+cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(1,2)", '=HYPERLINK("http://x","y")']


def cells(response):
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for row in workbook.active.iter_rows() for cell in row]


def test_every_text_is_a_text_cell_with_its_value_unchanged():
    rows = [{"text": payload, "n": 3} for payload in PAYLOADS]
    response = xlsx_response(
        "x", [Column("=label", lambda r: r["text"]), Column("n", lambda r: r["n"])], rows, title="=sheet"
    )
    sheet = cells(response)
    texts = [cell for cell in sheet if cell.column == 1]
    assert [(cell.value, cell.data_type) for cell in texts] == [(v, "s") for v in ["=label", *PAYLOADS]]
    assert [cell.data_type for cell in sheet if cell.column == 2][1:] == ["n"] * len(PAYLOADS)


def _list_urls(patterns, prefix=""):
    """Every page route without parameters."""
    for pattern in patterns:
        route = str(pattern.pattern)
        if "<" in route or route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            yield from _list_urls(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + route


def test_no_list_export_contains_a_formula(personas, client_for):
    payload = PAYLOADS[0]
    customer = factories.customer(actor=personas.admin, name=payload)
    factories.contact(customer, actor=personas.admin, name=payload)
    factories.site(customer, actor=personas.admin, name=payload)
    factories.part(actor=personas.admin, name=payload)
    factories.product_model(actor=personas.admin, name=payload)
    client = client_for(personas.admin)
    exports = {}
    for url in sorted(set(_list_urls(get_resolver().url_patterns))):
        if url.startswith(("/admin", "/api", "/i18n", "/logout", "/static", "/media")):
            continue
        response = client.get(url, {"export": "xlsx"})
        if response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml"):
            exports[url] = cells(response)
    assert len(exports) >= 10, sorted(exports)  # the walk found the list pages
    for url, sheet in exports.items():
        assert not [cell.coordinate for cell in sheet if cell.data_type == "f"], url
    for url in ("/customers/", "/parts/", "/assets/models/"):
        assert [cell.data_type for cell in exports[url] if cell.value == payload] == ["s"], url


def test_the_importer_stores_a_formula_as_its_text(personas, client_for):
    workbook = Workbook()
    workbook.active.append(["Name", "kind"])
    workbook.active.append(["=1+2", "company"])
    workbook.active.append(["=1+2+cmd|' /C calc'!A0", "company"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with io.BytesIO(buffer.getvalue()) as data:
        assert load_workbook(data)["Sheet"]["A2"].data_type == "f"  # a real formula cell
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(personas.agent)
    response = preview(client, "customers", SimpleUploadedFile("f.xlsx", buffer.getvalue()))
    assert response.context["result"].ok_count == 2
    apply(client, response)
    assert set(Customer.objects.filter(name__startswith="=").values_list("name", flat=True)) == {
        "=1+2",
        "=1+2+cmd|' /C calc'!A0",
    }


@pytest.mark.parametrize("value", PAYLOADS)
def test_an_exported_customer_list_imports_back_unchanged(personas, client_for, value):
    assert importing.cell_text(value) == value
    upload = xlsx_upload([["Name", "kind"], [value, "company"]])
    client = client_for(personas.agent)
    apply(client, preview(client, "customers", upload))
    assert Customer.objects.filter(name=value).exists()
