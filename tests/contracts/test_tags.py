"""The panels the work order, request and equipment pages include."""

from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from fieldservice.assets import services as asset_services
from fieldservice.workorders.services import intake
from tests.contracts.conftest import days


def render(source: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load contract_tags %}" + source).render(Context({"request": request, **context}))


def new_request(world, machine=None, customer=None):
    return intake.file_request(
        actor=world.agent,
        channel="phone",
        customer=customer or world.customer_a,
        equipment=machine,
        description="Mould clamp fault",
    )


def test_entitlement_panel_shows_what_the_order_got_and_links_the_contract(world, make_contract):
    contract = make_contract(activate=True, level="gold")
    order = intake.create_work_order(new_request(world, world.machine_a1), actor=world.agent)
    html = render("{% entitlement_panel order %}", world.agent, order=order)
    assert "Under contract" in html and order.entitlement_reason in html
    assert reverse("contracts:detail", args=[contract.pk]) in html
    assert "Gold 4h" in html
    # A provider sees why the visit is free, but not a link to a contract it may not open.
    provider = render("{% entitlement_panel order %}", world.provider_admin, order=order)
    assert order.entitlement_reason in provider
    assert reverse("contracts:detail", args=[contract.pk]) not in provider


def test_entitlement_panel_for_an_order_without_a_decision(world):
    order = intake.create_work_order(new_request(world, world.machine_a1), actor=world.agent)
    type(order).objects.filter(pk=order.pk).update(entitlement="", entitlement_reason="")
    order.refresh_from_db()
    assert "No entitlement was recorded" in render("{% entitlement_panel order %}", world.agent, order=order)


def test_request_entitlement_is_computed_live(world, make_contract):
    service_request = new_request(world, world.machine_a1)
    html = render("{% request_entitlement service_request %}", world.agent, service_request=service_request)
    assert "Chargeable" in html and "No warranty or contract covers this machine" in html
    make_contract(activate=True)
    html = render("{% request_entitlement service_request %}", world.agent, service_request=service_request)
    assert "Under contract" in html and "if a work order were created today" in html
    service_request.customer = None
    html = render("{% request_entitlement service_request %}", world.agent, service_request=service_request)
    assert "Assign the customer" in html


def test_equipment_coverage_lists_warranty_and_visible_contracts(world, make_contract):
    asset_services.update_equipment(world.machine_a1, actor=world.admin, warranty_ends_on=days(10))
    world.machine_a1.refresh_from_db()
    later = make_contract(activate=True, starts_on=days(11), ends_on=days(300))
    draft = make_contract(starts_on=days(301), ends_on=days(400))
    html = render("{% equipment_coverage equipment %}", world.agent, equipment=world.machine_a1)
    assert "In warranty" in html and days(10).isoformat() in html
    assert later.number in html and draft.number in html
    customer = render("{% equipment_coverage equipment %}", world.customer_user_a, equipment=world.machine_a1)
    assert later.number in customer and draft.number not in customer
    provider = render("{% equipment_coverage equipment %}", world.provider_admin, equipment=world.machine_a1)
    assert later.number not in provider and "In warranty" in provider
