"""Pool data on top of the shared personas: a skill, engineers of our company and of providers
B and C who hold it, and a helper that makes NEW orders needing it (customer A is served by B,
customer Z by nobody)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from fieldservice.accounts import services as account_services
from fieldservice.accounts.choices import Role
from fieldservice.workorders.services.intake import create_work_order
from tests import factories


def make_order(customer, *, skill=None, actor=None, **fields):
    """A NEW order at a site of the customer in Ningbo, whose fault category needs `skill`."""
    actor = actor or factories.system_user()
    category = factories.fault_category(skill=skill) if skill is not None else None
    site = factories.site(customer, city="宁波市", province="浙江省")
    machine = factories.equipment(customer, site=site)
    request = factories.service_request(customer, equipment=machine, fault_category=category)
    return create_work_order(request, actor=actor, **fields)


def give_profile(user, *, skill=None, level=3, areas=(), latitude="29.900000", longitude="121.600000"):
    account_services.save_engineer_profile(
        user,
        actor=factories.system_user(),
        skills={skill: level} if skill is not None else {},
        areas=list(areas),
        home_latitude=Decimal(latitude),
        home_longitude=Decimal(longitude),
    )
    return user


@pytest.fixture
def pool(personas):
    skill = factories.skill("hydraulics", "液压")
    give_profile(personas.engineer, skill=skill)
    give_profile(personas.provider_engineer, skill=skill)
    other_engineer = give_profile(
        factories.user(Role.ENGINEER, organisation=personas.other_provider, username="other_provider_engineer"),
        skill=skill,
    )
    return SimpleNamespace(
        skill=skill,
        other_engineer=other_engineer,
        order_a=make_order(personas.customer_a, skill=skill),
        order_z=make_order(personas.customer_z, skill=skill),
    )
