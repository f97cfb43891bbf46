"""A visit on top of the shared personas: a Chinese customer with a machine at a site (with
coordinates and a contact with an e-mail), a work order dispatched to our engineer, and helpers to
walk it to the state a test needs."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from fieldservice.accounts.choices import Role
from fieldservice.dispatch.assignments.services import accept_assignment, add_helper, dispatch_to_engineer
from fieldservice.field import services
from fieldservice.workorders.services.intake import create_work_order
from tests import factories


def png_file(name="photo.png", size=(40, 30), ink=True, fmt="PNG") -> SimpleUploadedFile:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (255, 255, 255, 0) if fmt == "PNG" else "white")
    if ink:
        ImageDraw.Draw(image).line([(2, 2), (size[0] - 3, size[1] - 3)], fill=(0, 0, 0, 255), width=3)
    buffer = BytesIO()
    image.save(buffer, format=fmt)
    content_type = "image/png" if fmt == "PNG" else f"image/{fmt.lower()}"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


@pytest.fixture
def visit(personas):
    p = personas
    p.motor = factories.part(part_number="MOTOR-1", name="伺服电机")
    p.belt = factories.part(part_number="BELT-1", name="Drive belt", unit="m")
    p.seal = factories.part(part_number="SEAL-9", name="油封")
    p.model = factories.product_model(code="IM-200", name="注塑机 200", bom=[(p.motor, 1), (p.belt, Decimal("2.5"))])
    p.customer_cn = factories.customer(actor=p.admin, name="宁波精密机械有限公司")
    p.contact_cn = factories.contact(p.customer_cn, name="王经理", email="wang@example.com")
    p.site_cn = factories.site(
        p.customer_cn,
        name="北仑工厂",
        address="宁波市北仑区港口路88号",
        latitude=Decimal("29.868336"),
        longitude=Decimal("121.543990"),
        contact=p.contact_cn,
    )
    p.machine = factories.equipment(
        p.customer_cn,
        actor=p.agent,
        product_model=p.model,
        serial_number="SN-宁波-0001",
        lot_number="LOT-7",
        site=p.site_cn,
    )
    p.other_machine = factories.equipment(p.customer_cn, actor=p.agent, product_model=p.model, site=p.site_cn)
    p.fault = factories.fault_category("hydraulic-oil-hot", name="油温过高")
    request = factories.service_request(
        p.customer_cn,
        actor=p.agent,
        equipment=p.machine,
        contact=p.contact_cn,
        description="液压油温度报警，停机",
        fault_category=p.fault,
    )
    p.order = create_work_order(request, actor=p.agent)
    p.assignment = dispatch_to_engineer(p.order, actor=p.dispatcher, engineer=p.engineer)
    p.other_engineer = factories.user(Role.ENGINEER, organisation=p.own, username="other_engineer")
    p.helper = factories.user(Role.ENGINEER, organisation=p.own, username="helper")
    p.order.refresh_from_db()
    # The engineers carry the parts they fit: what they use leaves their van (see field.services.use_part).
    p.store = factories.warehouse(p.own, code="WH-FIELD", name="Field store")
    for person in (p.engineer, p.helper):
        for part, quantity in ((p.motor, 5), (p.belt, 10), (p.seal, 10)):
            factories.fill_van(person, part, quantity, source=p.store)
    return p


def accept(p):
    accept_assignment(p.assignment, actor=p.engineer)
    p.order.refresh_from_db()
    return p.order


def on_site(p):
    accept(p)
    services.check_in(p.order, actor=p.engineer, latitude="29.868", longitude="121.544", accuracy=12)
    p.order.refresh_from_db()
    return p.order


def with_helper(p):
    assignment = add_helper(p.order, actor=p.dispatcher, engineer=p.helper)
    accept_assignment(assignment, actor=p.helper)
    return assignment


def record(p, **overrides):
    fields = {
        "resolution_type": "replace_part",
        "fault_cause": "冷却器堵塞",
        "actions_taken": "清洗冷却器，更换伺服电机",
        "labour_hours": "2.5",
    }
    fields.update(overrides)
    return services.record_work(p.order, actor=p.engineer, **fields)


def ready_to_complete(p):
    """On site, work recorded, the motor replaced, a belt added, a photo, and the customer signed."""
    on_site(p)
    record(p)
    fitted_motor = p.machine.fitted_parts.get(part=p.motor)
    services.use_part(p.order, actor=p.engineer, part=p.motor, quantity=1, replaces=fitted_motor, new_serial="M-NEW-1")
    services.use_part(p.order, actor=p.engineer, part=p.seal, quantity=2)
    services.add_photo(p.order, actor=p.engineer, file=png_file("site.jpg", size=(64, 48), fmt="JPEG"))
    services.capture_signature(p.order, actor=p.engineer, image_file=png_file("sig.png"), signer_name="王经理")
    p.order.refresh_from_db()
    return p.order
