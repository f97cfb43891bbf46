"""Installed-base data on top of the shared personas: one machine for customer A (served by
provider B) and one for customer Z, built by our agent through the services."""

from decimal import Decimal

import pytest

from tests import factories


@pytest.fixture
def world(personas):
    p = personas
    p.motor = factories.part(part_number="MOTOR-1", name="Servo motor")
    p.belt = factories.part(part_number="BELT-1", name="Drive belt", unit="m")
    p.model = factories.product_model(
        code="IM-200", name="Injection moulder 200", bom=[(p.motor, 1), (p.belt, Decimal("2.5"))]
    )
    p.site_a = factories.site(p.customer_a, name="Plant A", address="88 Harbour Road, Ningbo")
    p.site_z = factories.site(p.customer_z, name="Plant Z", address="1 Secret Lane, Suzhou")
    p.machine_a = factories.equipment(
        p.customer_a, actor=p.agent, product_model=p.model, serial_number="A-0001", site=p.site_a, lot_number="LOT-7"
    )
    p.machine_z = factories.equipment(
        p.customer_z, actor=p.agent, product_model=p.model, serial_number="Z-0001", site=p.site_z
    )
    return p
