"""The order page's suggested engineers and the best-match rule rank with one scoring function:
the page's first suggestion is the engineer the rule picks, and distance counts."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from fieldservice.accounts.models import ServiceArea
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.assignments.selectors import candidates_for
from fieldservice.dispatch.models import Assignment
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch
from fieldservice.workorders.services.intake import create_work_order
from tests import factories
from tests.dispatch.conftest import profile

NINGBO = (Decimal("29.868336"), Decimal("121.543990"))
# About 31 km and 150 km from the site.
NEAR = (Decimal("29.868336"), Decimal("121.865000"))
FAR = (Decimal("31.220000"), Decimal("121.543990"))


@pytest.fixture
def scene(personas):
    """The issue's case: 胡静 lives near the site but has one open order; 蒋芳 has none but lives
    150 km away. Both have the skill and cover the area."""
    p = personas
    skill = factories.skill("hydraulics")
    p.fault = factories.fault_category("hyd", skill=skill)
    area = ServiceArea.objects.create(name="Ningbo", province="Zhejiang", city="Ningbo")
    p.site = factories.site(p.customer_z, city="Ningbo", province="Zhejiang", latitude=NINGBO[0], longitude=NINGBO[1])
    p.hu = profile(factories.engineer(p.own), skills={skill: 3}, areas=[area], home=NEAR)
    p.jiang = profile(factories.engineer(p.own), skills={skill: 3}, areas=[area], home=FAR)
    services.dispatch_to_engineer(new_order(p), actor=p.dispatcher, engineer=p.hu)
    p.order = new_order(p)
    return p


def new_order(p):
    machine = factories.equipment(p.customer_z, site=p.site)
    request = factories.service_request(p.customer_z, actor=p.agent, equipment=machine, fault_category=p.fault)
    return create_work_order(request, actor=p.agent)


def page_suggestions(client, order) -> list[str]:
    body = client.get(reverse("dispatch:order", args=[order.pk])).content.decode()
    return re.findall(r'name="engineer" value="(\d+)"', body.split('class="list candidates"', 1)[1])


def rule_pick(p, order, **weights):
    rule_services.create_rule(actor=p.dispatcher, name="Best", strategy="best_match", weights=weights)
    auto_dispatch(order)
    return Assignment.objects.get(work_order=order, role="lead").engineer


def test_the_order_page_suggests_first_whom_the_best_match_rule_picks(scene, client_for):
    p = scene
    ranked = candidates_for(p.order, p.dispatcher)
    assert [c.engineer for c in ranked][:2] == [p.hu, p.jiang]
    assert ranked[0].distance_km == pytest.approx(31, abs=1) and ranked[1].distance_km == pytest.approx(150, abs=2)
    assert (ranked[0].open_orders, ranked[1].open_orders) == (1, 0)
    assert page_suggestions(client_for(p.dispatcher), p.order)[0] == str(p.hu.pk)
    assert rule_pick(p, p.order) == ranked[0].engineer


def test_distance_matters_the_same_way_on_the_page_and_in_the_rule(scene):
    p = scene
    # Swap the homes: now 蒋芳 is near and also has no open order.
    profile(p.hu, skills={p.fault.skill: 3}, areas=list(p.hu.engineer_profile.areas.all()), home=FAR)
    profile(p.jiang, skills={p.fault.skill: 3}, areas=list(p.jiang.engineer_profile.areas.all()), home=NEAR)
    ranked = candidates_for(p.order, p.dispatcher)
    assert [c.engineer for c in ranked][:2] == [p.jiang, p.hu]
    assert rule_pick(p, p.order) == p.jiang


def test_the_page_ranks_with_the_weights_of_the_rule_that_catches_the_order(scene):
    p = scene
    # A rule that only weighs the skill level: 胡静's level 5 beats the idle 蒋芳's level 1 on the
    # page as in the rule.
    areas = list(p.hu.engineer_profile.areas.all())
    profile(p.hu, skills={p.fault.skill: 5}, areas=areas, home=NEAR)
    profile(p.jiang, skills={p.fault.skill: 1}, areas=areas, home=FAR)
    weights = {"skill": 5, "distance": 0, "load": 0, "last_engineer": 0, "rating": 0}
    rule_services.create_rule(actor=p.dispatcher, name="Skill", strategy="best_match", weights=weights)
    assert candidates_for(p.order, p.dispatcher)[0].engineer == p.hu
    auto_dispatch(p.order)
    assert Assignment.objects.get(work_order=p.order, role="lead").engineer == p.hu
