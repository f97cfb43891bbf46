"""core.panels: a page renders what the apps above it registered for its slot, in order, and
each panel shows only what the viewer may see."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils.safestring import mark_safe

from fieldservice.core import panels
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def slot(monkeypatch):
    monkeypatch.setattr(panels, "_panels", {})
    return "tests.page"


def test_panels_render_in_the_order_they_were_registered_and_once(slot):
    first, second = (
        (lambda request, obj: mark_safe(f"<p>first {obj}</p>")),
        (lambda request, obj: mark_safe("<p>second</p>")),
    )
    panels.register(slot, first)
    panels.register(slot, second)
    panels.register(slot, first)  # a second ready() (tests, reloads) does not show it twice
    html = panels.render(slot, RequestFactory().get("/"), 7)
    assert html == "<p>first 7</p><p>second</p>"
    assert panels.render("tests.other", RequestFactory().get("/"), 7) == ""


def test_a_panel_that_returns_plain_text_is_escaped(slot):
    panels.register(slot, lambda request, obj: "<script>alert(1)</script>")
    assert panels.render(slot, RequestFactory().get("/"), None) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_the_customer_page_shows_the_machines_panel_of_assets(personas, client_for):
    machine = factories.equipment(personas.customer_a)
    other = factories.equipment(personas.customer_z)
    page = client_for(personas.agent).get(reverse("customers:detail", args=[personas.customer_a.pk]))
    html = page.content.decode()
    assert 'id="equipment"' in html and machine.serial_number in html and other.serial_number not in html


def test_the_contract_page_shows_the_orders_panel_of_workorders(personas, client_for):
    machine = factories.equipment(personas.customer_a)
    contract = factories.contract(personas.customer_a, machines=[machine], activate=True)
    covered = factories.work_order(personas.customer_a, equipment=machine)
    elsewhere = factories.work_order(personas.customer_a)
    html = client_for(personas.agent).get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert covered.contract_id == contract.pk
    assert 'id="work-orders"' in html and covered.number in html and elsewhere.number not in html
