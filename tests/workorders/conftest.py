"""Service desk data on top of the shared personas: a machine, a site and a contact for customer
A (served by provider B) and for customer Z, and builders for requests and work orders that go
through the intake services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.workorders.services import intake
from tests import factories
from tests.assets.images import png_bytes


def photo(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def not_an_image(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>", content_type="image/png")


@pytest.fixture
def world(personas):
    p = personas
    p.model = factories.product_model(code="IM-200", name="Injection moulder 200")
    p.site_a = factories.site(p.customer_a, name="Plant A", address="88 Harbour Road, Ningbo")
    p.site_z = factories.site(p.customer_z, name="Plant Z", address="1 Secret Lane, Suzhou")
    p.contact_a = factories.contact(p.customer_a, name="Li Na", phone="13800138000")
    p.contact_z = factories.contact(p.customer_z, name="Zhou Jie", phone="13900139000")
    p.machine_a = factories.equipment(p.customer_a, product_model=p.model, serial_number="A-0001", site=p.site_a)
    p.machine_z = factories.equipment(p.customer_z, product_model=p.model, serial_number="Z-0001", site=p.site_z)
    return p


@pytest.fixture
def service_request(world):
    """An OPEN phone request filed by the agent for customer A's machine (or as told)."""

    def build(customer=None, *, actor=None, **fields):
        customer = customer or world.customer_a
        if "equipment" not in fields:
            fields["equipment"] = world.machine_a if customer == world.customer_a else world.machine_z
        fields.setdefault("channel", "phone")
        fields.setdefault("description", "Hydraulic oil temperature alarm")
        return intake.file_request(actor=actor or world.agent, customer=customer, **fields)

    return build


@pytest.fixture
def work_order(world, service_request):
    """A NEW work order made from a fresh request; `engineer=` dispatches it to them (and
    `accepted=True` has them accept it)."""

    def build(customer=None, *, engineer=None, accepted=False, **fields):
        order = intake.create_work_order(service_request(customer), actor=world.agent, **fields)
        if engineer is not None:
            assignment = dispatch_to_engineer(order, actor=world.dispatcher, engineer=engineer)
            if accepted:
                accept_assignment(assignment, actor=engineer)
            order.refresh_from_db()
        return order

    return build
