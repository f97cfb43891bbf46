"""A small team for the optimisation tests: two engineers of our company working 08:00-17:00 every day
near Ningbo (one of them with the hydraulics skill), the team's area, and a helper to make open orders
at sites in that area."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from fieldservice.accounts.models import ServiceArea
from fieldservice.accounts.services import create_team
from fieldservice.workorders.services.intake import create_work_order
from tests import factories

HOURS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def team_world(personas):
    admin = personas.admin
    area = ServiceArea.objects.create(name="Ningbo test area", city="Ningbo")
    team = create_team(actor=admin, name="East team", organisation=personas.own)
    team.areas.add(area)
    hydraulics = factories.skill("hydraulics", "Hydraulics")
    skilled = factories.engineer(
        personas.own,
        actor=admin,
        skills={hydraulics: 2},
        team=team,
        areas=[area],
        home_latitude=Decimal("29.87"),
        home_longitude=Decimal("121.55"),
        working_hours=HOURS,
    )
    plain = factories.engineer(
        personas.own,
        actor=admin,
        team=team,
        areas=[area],
        home_latitude=Decimal("29.90"),
        home_longitude=Decimal("121.60"),
        working_hours=HOURS,
    )
    customer = factories.customer(actor=admin, name="Ningbo Plastics")
    category = factories.fault_category("hydraulic-leak", skill=hydraulics)

    def order(*, latitude="29.88", longitude="121.57", needs_skill=False, priority=None):
        site = factories.site(
            customer,
            actor=admin,
            city="Ningbo",
            latitude=Decimal(latitude) if latitude is not None else None,
            longitude=Decimal(longitude) if longitude is not None else None,
        )
        machine = factories.equipment(customer, actor=admin, site=site)
        request = factories.service_request(
            customer, actor=admin, equipment=machine, fault_category=category if needs_skill else None
        )
        extra = {"priority": priority} if priority else {}
        return create_work_order(request, actor=admin, **extra)

    return SimpleNamespace(
        area=area,
        team=team,
        skilled=skilled,
        plain=plain,
        customer=customer,
        order=order,
        day=timezone.localdate() + dt.timedelta(days=3),
        **vars(personas),
    )
