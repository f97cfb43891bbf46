"""The demo's rules: made through the services over the demo's reference data."""

import random

from django.utils import timezone

from fieldservice.accounts.models import ServiceArea, ServiceTeam
from fieldservice.dispatch import demo
from fieldservice.dispatch.models import DispatchRule
from tests import factories


def test_the_demo_seeds_its_rules_and_the_ningbo_boundary(personas):
    for name in ("宁波", "温州", "台州", "苏州", "上海"):
        ServiceArea.objects.create(name=name)
    ServiceTeam.objects.create(name="苏沪队", organisation=personas.own)
    ServiceTeam.objects.create(name="宁波一队", organisation=personas.own)
    hydraulics = factories.skill("hydraulics", "液压")
    factories.fault_category("oil-temp", name="油温过高", skill=hydraulics)

    demo.seed(rng=random.Random(1), now=timezone.now())

    rules = list(DispatchRule.objects.order_by("position"))
    assert len(rules) == 6
    assert [r.position for r in rules] == [1, 2, 3, 4, 5, 6]
    assert {r.strategy for r in rules if r.action == "assign"} >= {"nearest", "best_match", "fixed", "round_robin"}
    assert sum(not r.is_active for r in rules) == 1
    assert ServiceArea.objects.get(name="宁波").polygon == demo.NINGBO_RING
