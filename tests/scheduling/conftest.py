"""Scheduling data on top of the shared personas: a hydraulics fault at a site of customer A
(served by provider B), engineers with weekly hours, and an order dispatched to our engineer.
Slots are planned on a Monday two weeks ahead, so "now" never gets in the way."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.accounts import services as account_services
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.workorders.services.intake import create_work_order
from tests import factories

OFFICE = {day: [["08:30", "12:00"], ["13:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}
EVERY_DAY = {day: [["08:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hours, minutes)))


def profile(user, *, skills=None, hours=None):
    account_services.save_engineer_profile(
        user, actor=factories.system_user(), skills=skills, working_hours=hours or {}
    )
    return user


def order_for(world, customer=None, *, engineer=None, accept=False, fault=True, service_type="repair"):
    customer = customer or world.customer_a
    site = world.site_a if customer == world.customer_a else world.site_z
    machine = factories.equipment(customer, site=site, product_model=world.model)
    request = factories.service_request(
        customer,
        actor=world.agent,
        equipment=machine,
        fault_category=world.fault if fault else None,
        description="液压油温度报警, 停机; 请尽快\\处理\n第二行",
    )
    order = create_work_order(request, actor=world.agent, service_type=service_type)
    if engineer is not None:
        assignment = dispatch_to_engineer(order, actor=world.dispatcher, engineer=engineer)
        if accept:
            accept_assignment(assignment, actor=engineer)
    order.refresh_from_db()
    return order


@pytest.fixture
def world(personas):
    p = personas
    p.hydraulics = factories.skill("hydraulics", "Hydraulics")
    p.fault = factories.fault_category("hyd-oil-temp", name="Oil temperature", skill=p.hydraulics)
    p.model = factories.product_model(code="IM-200", name="注塑机 200")
    p.site_a = factories.site(
        p.customer_a, name="北仑工厂", province="浙江省", city="宁波市", district="北仑区", address="港口路88号"
    )
    p.site_z = factories.site(p.customer_z, name="Plant Z")
    skilled = {p.hydraulics: 3}
    profile(p.engineer, skills=skilled, hours=OFFICE)
    profile(p.provider_engineer, skills=skilled, hours=OFFICE)
    p.second = profile(factories.engineer(p.own), skills=skilled, hours=OFFICE)
    p.unskilled = profile(factories.engineer(p.own), hours=OFFICE)
    today = timezone.localdate()
    p.monday = today + dt.timedelta(days=14 - today.weekday())
    p.order = order_for(p, engineer=p.engineer, accept=True)
    return p
