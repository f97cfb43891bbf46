"""The machines the campaign tests pick from: two models, lots and serials of equal width and
one of another width, two customers (A served by provider B, Z not) in two areas."""

import datetime as dt
from decimal import Decimal

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets.services import invalidate_equipment
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.field.models import JobTemplate, JobTemplateStep
from fieldservice.workorders.services.lifecycle import transition
from tests import factories


def build(p):
    p.north = ServiceArea.objects.create(name="North", city="Ningbo")
    p.south = ServiceArea.objects.create(name="South", city="Hangzhou")
    p.site_a = factories.site(p.customer_a, name="Ningbo plant", city="Ningbo City", latitude=None, longitude=None)
    p.site_z = factories.site(p.customer_z, name="Hangzhou plant", city="Hangzhou", latitude=None, longitude=None)
    p.im200 = factories.product_model(code="IM-200", name="Injector 200")
    p.im300 = factories.product_model(code="IM-300", name="Injector 300")
    p.hose = factories.part(part_number="HOSE-1", name="Hydraulic hose")
    today = dt.date(2025, 6, 1)
    machine = factories.equipment
    # (name, customer, site, model, serial, lot, installed)
    specs = [
        ("a1", p.customer_a, p.site_a, p.im200, "IM200-0001", "2024-B01", today - dt.timedelta(days=400)),
        ("a2", p.customer_a, p.site_a, p.im200, "IM200-0002", "2024-B02", today - dt.timedelta(days=300)),
        ("a3", p.customer_a, p.site_a, p.im300, "IM300-0003", "2024-B05", today - dt.timedelta(days=200)),
        ("z1", p.customer_z, p.site_z, p.im200, "IM200-0010", "2024-B10", today - dt.timedelta(days=100)),
        ("z2", p.customer_z, p.site_z, p.im200, "IM200-0011", "2024-B11", today - dt.timedelta(days=50)),
        # Another width: outside every range of width 8 whatever its characters.
        ("odd", p.customer_z, p.site_z, p.im200, "IM200-05", "2024-B5", today - dt.timedelta(days=50)),
        ("gone", p.customer_a, p.site_a, p.im200, "IM200-0004", "2024-B03", today - dt.timedelta(days=50)),
    ]
    p.machines = {}
    for name, customer, site, model, serial, lot, installed in specs:
        p.machines[name] = machine(
            customer,
            actor=p.admin,
            site=site,
            product_model=model,
            serial_number=serial,
            lot_number=lot,
            installed_on=installed,
        )
    invalidate_equipment(p.machines["gone"], actor=p.admin, reason="Scrapped")
    p.template = JobTemplate.objects.create(name="Hose check", service_type="inspection")
    JobTemplateStep.objects.create(template=p.template, position=1, kind="instruction", title="Check the hose")
    JobTemplateStep.objects.create(template=p.template, position=2, kind="yes_no", title="Hose replaced?")
    p.customer_contact_user_a = p.customer_user_a
    return p


def complete(order, p):
    """An order walked to completed through the lifecycle (dispatched to our engineer)."""
    dispatch_to_engineer(order, actor=p.dispatcher, engineer=p.field_engineer)
    for verb in ("accept", "check_in", "complete"):
        transition(order, verb, actor=p.field_engineer)
    order.refresh_from_db()
    return order


QUANTITY = Decimal("2")
