"""Contracts data on top of the shared personas: SLA policies we control (a default one, one for
key accounts, a gold one for contracts), a price list, and machines of customers A and Z whose
warranty is over unless a test says otherwise."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.contracts import services
from fieldservice.sla.models import BusinessCalendar, SlaPolicy
from tests import factories


def today() -> dt.date:
    return timezone.localdate()


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def policies(db):
    # Whatever policies the SLA app ships are set aside, so these tests decide which applies.
    SlaPolicy.objects.update(is_default=False, customer_tier="")
    calendar = BusinessCalendar.objects.create(name="Contracts test 24x7")
    return type(
        "Policies",
        (),
        {
            "default": SlaPolicy.objects.create(
                code="t-default", name="Standard response", calendar=calendar, is_default=True
            ),
            "key": SlaPolicy.objects.create(
                code="t-key", name="Key account response", calendar=calendar, customer_tier="key"
            ),
            "gold": SlaPolicy.objects.create(code="t-gold", name="Gold 4h", calendar=calendar),
            "retired": SlaPolicy.objects.create(code="t-old", name="Retired", calendar=calendar, is_active=False),
        },
    )


@pytest.fixture
def world(personas, policies):
    p = personas
    p.policies = policies
    p.model = factories.product_model(code="IM-300", name="Injection moulder 300")
    p.site_a = factories.site(p.customer_a, name="Plant A")
    p.site_z = factories.site(p.customer_z, name="Plant Z")
    expired = {"warranty_starts_on": days(-800), "warranty_ends_on": days(-70)}
    p.machine_a1 = factories.equipment(
        p.customer_a, product_model=p.model, serial_number="A-0001", site=p.site_a, **expired
    )
    p.machine_a2 = factories.equipment(
        p.customer_a, product_model=p.model, serial_number="A-0002", site=p.site_a, **expired
    )
    p.machine_z = factories.equipment(
        p.customer_z, product_model=p.model, serial_number="Z-0001", site=p.site_z, **expired
    )
    return p


@pytest.fixture
def make_contract(world):
    """A contract for customer A over machine A1 (by default) from today for a year, made and
    (with `activate=True`) activated by the administrator."""

    def build(customer=None, machines=None, *, activate=False, actor=None, **fields):
        # A contract whose period is over is activated as of its start (as it was back then).
        customer = customer or world.customer_a
        if machines is None:
            machines = [world.machine_a1] if customer == world.customer_a else [world.machine_z]
        fields.setdefault("starts_on", today())
        fields.setdefault("ends_on", days(364))
        fields.setdefault("sla_policy", world.policies.gold)
        contract = services.create_contract(actor=actor or world.admin, customer=customer, equipment=machines, **fields)
        if activate:
            on = min(today(), contract.starts_on)
            contract = services.activate_contract(contract, actor=actor or world.admin, today=on)
        return contract

    return build
