"""The in-memory engine: the rule index gives the same first match as trying the rules one by
one, the fast distance stays close to the great circle, and each condition field matches."""

import random
from types import SimpleNamespace

from fieldservice.core.geo import great_circle_km
from fieldservice.dispatch.rules.conditions import OrderFacts, compile_conditions, conditions_match
from fieldservice.dispatch.rules.engine import CompiledRule, Engineer, RuleIndex, _radians

VALUES = {
    "priority": ["low", "normal", "high", "urgent"],
    "service_type": ["repair", "maintenance"],
    "customer_tier": ["key", "standard"],
    "contract_level": ["gold", "silver", ""],
    "channel": ["phone", "qr"],
    "product_line": ["Line A", "Line B", ""],
    "product_model": [1, 2, None],
    "fault_category": [1, 2, 3],
    "area": [10, 11, 12],
    "city": ["Ningbo", "Hangzhou", ""],
}


def random_facts(rng, pk):
    category = rng.choice(VALUES["fault_category"])
    return OrderFacts(
        pk=pk,
        number="",
        status="new",
        customer_id=1,
        provider_id=None,
        service_type=rng.choice(VALUES["service_type"]),
        priority=rng.choice(VALUES["priority"]),
        fault_category_id=category,
        fault_categories=frozenset({category, 99}),  # 99: the parent of every category
        product_line=rng.choice(VALUES["product_line"]),
        product_model_id=rng.choice(VALUES["product_model"]),
        city=rng.choice(["Ningbo City", "Hangzhou", ""]),
        customer_tier=rng.choice(VALUES["customer_tier"]),
        contract_level=rng.choice(VALUES["contract_level"]),
        channel=rng.choice(VALUES["channel"]),
        areas=frozenset(rng.sample(VALUES["area"], rng.randint(0, 2))),
    )


def random_conditions(rng):
    conditions = {}
    for name, values in VALUES.items():
        if rng.random() < 0.3:
            conditions[name] = rng.sample([v for v in values if v not in ("", None)], 1)
    if rng.random() < 0.1:
        conditions["fault_category"] = [99]
    return conditions


def test_the_rule_index_agrees_with_trying_each_rule_in_turn():
    rng = random.Random(7)
    for _round in range(30):
        rules = [CompiledRule(SimpleNamespace(pk=n), compile_conditions(random_conditions(rng)), {}) for n in range(40)]
        index = RuleIndex(rules)
        for pk in range(200):
            facts = random_facts(rng, pk)
            expected = next((i for i, r in enumerate(rules) if conditions_match(r.conditions, facts)), None)
            assert index.first(facts) == expected


def test_city_conditions_match_by_containment_and_a_parent_category_catches_its_children():
    facts = random_facts(random.Random(1), 1)
    facts.city, facts.fault_categories = "Ningbo City", frozenset({5, 99})
    assert conditions_match(compile_conditions({"city": ["Ningbo"]}), facts)
    assert not conditions_match(compile_conditions({"city": ["Hangzhou"]}), facts)
    assert conditions_match(compile_conditions({"fault_category": [99]}), facts)
    facts.contract_level = ""
    assert not conditions_match(compile_conditions({"contract_level": ["gold"]}), facts)


def test_the_fast_distance_is_within_one_percent_of_the_great_circle():
    from fieldservice.dispatch.rules.engine import Snapshot

    site = (29.868336, 121.543990)
    for home in [(29.87, 121.55), (30.17, 121.24), (31.23, 121.47), (28.65, 121.26), (30.27, 120.15)]:
        engineer = Engineer(1, "x", None, True, None, True, {}, frozenset(), *home, radians=_radians(*home))
        facts = OrderFacts(1, "", "new", 1, None, "repair", "normal", None, radians=_radians(*site))
        fast = Snapshot.distance(None, engineer, facts)
        exact = great_circle_km(*site, *home)
        assert abs(fast - exact) <= 0.01 * exact + 0.01
