"""Dispatch knows parts: the suggested engineers, the dispatch board and the rule tester show whether
each candidate's van holds the order's needed parts, and a carrier goes a little ahead of an equal."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fieldservice.accounts.models import ServiceArea
from fieldservice.dispatch.assignments.selectors import candidates_for
from fieldservice.inventory.choices import MoveReason
from fieldservice.inventory.services import Line, post, van_for
from fieldservice.workorders.services.intake import create_work_order
from fieldservice.workorders.services.needed_parts import set_needed_parts
from tests import factories
from tests.dispatch.conftest import profile

NINGBO = (Decimal("29.868336"), Decimal("121.543990"))
NEAR = (Decimal("29.868336"), Decimal("121.865000"))
FAR = (Decimal("31.220000"), Decimal("121.543990"))


def fill(engineer, part, quantity):
    post(
        [Line(van_for(engineer), part, MoveReason.TRANSFER_IN, quantity=Decimal(quantity))],
        actor=factories.system_user(),
    )


@pytest.fixture
def scene(personas):
    """Hu lives near the site (the pick); Jiang and Zhao live at the same place far away, alike in
    all but their vans: Zhao (made later, so after Jiang by id) carries the pump, Jiang nothing."""
    p = personas
    skill = factories.skill("hydraulics")
    p.fault = factories.fault_category("hyd", skill=skill)
    area = ServiceArea.objects.create(name="Ningbo", province="Zhejiang", city="Ningbo")
    p.site = factories.site(p.customer_z, city="Ningbo", province="Zhejiang", latitude=NINGBO[0], longitude=NINGBO[1])
    p.hu = profile(factories.engineer(p.own), skills={skill: 3}, areas=[area], home=NEAR)
    p.jiang = profile(factories.engineer(p.own), skills={skill: 3}, areas=[area], home=FAR)
    p.zhao = profile(factories.engineer(p.own), skills={skill: 3}, areas=[area], home=FAR)
    p.pump = factories.part(part_number="PUMP-7")
    p.seal = factories.part(part_number="SEAL-7")
    machine = factories.equipment(p.customer_z, site=p.site)
    request = factories.service_request(p.customer_z, actor=p.agent, equipment=machine, fault_category=p.fault)
    p.order = create_work_order(request, actor=p.agent)
    set_needed_parts(p.order, actor=p.dispatcher, parts=[(p.pump, 2), (p.seal, 1)])
    fill(p.zhao, p.pump, 2)
    fill(p.zhao, p.seal, 5)
    fill(p.hu, p.pump, 1)
    return p


def by_engineer(candidates):
    return {c.engineer: c for c in candidates}


def test_each_candidate_shows_all_some_or_none_with_what_is_missing(scene):
    p = scene
    found = by_engineer(candidates_for(p.order, p.dispatcher))
    assert (found[p.zhao].parts, found[p.zhao].missing) == ("all", [])
    assert (found[p.hu].parts, found[p.hu].missing) == ("some", [("PUMP-7", Decimal(1)), ("SEAL-7", Decimal(1))])
    assert (found[p.jiang].parts, found[p.jiang].missing) == ("none", [("PUMP-7", Decimal(2)), ("SEAL-7", Decimal(1))])


def test_a_carrier_goes_ahead_of_an_equal_who_does_not_carry_and_the_pick_stays(scene):
    p = scene
    ranked = [c.engineer for c in candidates_for(p.order, p.dispatcher)]
    assert ranked[:3] == [p.hu, p.zhao, p.jiang]
    # Without the needed parts the two far engineers are equal: the lower id (Jiang) comes first.
    set_needed_parts(p.order, actor=p.dispatcher, parts=[])
    assert [c.engineer for c in candidates_for(p.order, p.dispatcher)][:3] == [p.hu, p.jiang, p.zhao]
    assert all(c.parts == "" for c in candidates_for(p.order, p.dispatcher))


def test_the_order_page_the_board_queue_and_the_api_show_the_parts(scene, client_for, api_client_for):
    p = scene
    client = client_for(p.dispatcher)
    body = client.get(reverse("dispatch:order", args=[p.order.pk])).content.decode()
    assert 'data-parts="all"' in body and 'data-parts="none"' in body and "PUMP-7 × 2" in body
    board = client.get(reverse("board:queue")).content.decode()
    assert p.order.number in board and 'data-parts="' in board
    rows = api_client_for(p.dispatcher).get(f"/api/v1/work-orders/{p.order.pk}/candidates").json()
    row = next(r for r in rows if r["engineer"] == p.hu.pk)
    assert row["parts"] == "some"
    assert row["missing_parts"] == [
        {"part_number": "PUMP-7", "quantity": "1"},
        {"part_number": "SEAL-7", "quantity": "1"},
    ]


def test_the_rule_tester_shows_the_parts_of_each_candidate(scene, client_for):
    p = scene
    from fieldservice.dispatch.rules import services as rule_services

    rule_services.create_rule(actor=p.dispatcher, name="Best", strategy="best_match")
    body = client_for(p.dispatcher).get(reverse("dispatch:rule_tester"), {"order": p.order.number}).content.decode()
    table = body.split('id="tester-candidates"', 1)[1]
    assert f'data-engineer="{p.zhao.pk}"' in table
    zhao_row = table.split(f'data-engineer="{p.zhao.pk}"', 1)[1].split("</tr>", 1)[0]
    jiang_row = table.split(f'data-engineer="{p.jiang.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-parts="all"' in zhao_row
    assert 'data-parts="none"' in jiang_row and "SEAL-7 × 1" in jiang_row
