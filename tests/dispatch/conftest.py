"""Dispatch data on top of the shared personas: a hydraulics fault at a Ningbo site of customer A
(served by provider B) and of customer Z, and engineers that differ in one way each."""

from decimal import Decimal

import pytest

from fieldservice.accounts import services as account_services
from fieldservice.accounts.choices import Availability, Role
from fieldservice.accounts.models import ServiceArea
from fieldservice.workorders.services.intake import create_work_order
from tests import factories

NINGBO = (Decimal("29.868336"), Decimal("121.543990"))
NEAR_NINGBO = (Decimal("29.870000"), Decimal("121.550000"))
CIXI = (Decimal("30.170000"), Decimal("121.240000"))
SHANGHAI = (Decimal("31.230000"), Decimal("121.470000"))


def profile(user, *, skills=None, areas=(), home=None, availability=Availability.ON_DUTY):
    root = factories.system_user()
    latitude, longitude = home or (None, None)
    saved = account_services.save_engineer_profile(
        user, actor=root, skills=skills or {}, areas=list(areas), home_latitude=latitude, home_longitude=longitude
    )
    if availability != Availability.ON_DUTY:
        account_services.set_availability(saved, actor=root, availability=availability)
    return user


def order_for(world, customer=None, *, site=None, priority="normal", fault=True, actor=None, **fields):
    """A NEW work order for a machine of `customer` (A by default) at its Ningbo site."""
    customer = customer or world.customer_a
    site = site or (world.site_a if customer == world.customer_a else world.site_z)
    machine = factories.equipment(customer, site=site)
    request = factories.service_request(
        customer,
        actor=actor or world.agent,
        equipment=machine,
        priority=priority,
        fault_category=world.fault if fault else None,
        **fields,
    )
    return create_work_order(request, actor=actor or world.agent)


@pytest.fixture
def world(personas):
    p = personas
    p.hydraulics = factories.skill("hydraulics", "Hydraulics")
    p.fault = factories.fault_category("hyd-oil-temp", name="Oil temperature", skill=p.hydraulics)
    p.ningbo = ServiceArea.objects.create(name="Ningbo", province="Zhejiang", city="Ningbo")
    p.hangzhou = ServiceArea.objects.create(name="Hangzhou", province="Zhejiang", city="Hangzhou")
    p.site_a = factories.site(p.customer_a, name="Plant A", city="Ningbo", province="Zhejiang")
    p.site_z = factories.site(p.customer_z, name="Plant Z", city="Ningbo", province="Zhejiang")
    skilled = {p.hydraulics: 3}
    # Suitable: skill, area, on duty; they differ in distance.
    profile(p.engineer, skills=skilled, areas=[p.ningbo], home=NEAR_NINGBO)
    profile(p.provider_engineer, skills=skilled, areas=[p.ningbo], home=CIXI)
    p.far = profile(factories.engineer(p.own), skills={p.hydraulics: 5}, areas=[p.ningbo], home=SHANGHAI)
    # Not suitable, one reason each.
    p.unskilled = profile(factories.engineer(p.own), areas=[p.ningbo], home=NEAR_NINGBO)
    p.elsewhere = profile(factories.engineer(p.own), skills=skilled, areas=[p.hangzhou], home=NEAR_NINGBO)
    p.off_duty = profile(
        factories.engineer(p.own), skills=skilled, areas=[p.ningbo], home=NEAR_NINGBO, availability=Availability.OFF
    )
    # Never offered.
    p.on_leave = profile(
        factories.engineer(p.own),
        skills=skilled,
        areas=[p.ningbo],
        home=NEAR_NINGBO,
        availability=Availability.ON_LEAVE,
    )
    p.other_provider_engineer = profile(
        factories.user(Role.ENGINEER, organisation=p.other_provider, username="other_provider_engineer"),
        skills=skilled,
        areas=[p.ningbo],
        home=NEAR_NINGBO,
    )
    p.order = order_for(p)
    return p
