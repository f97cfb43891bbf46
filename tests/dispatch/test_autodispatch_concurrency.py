"""Two drains auto-dispatching at the same moment on PostgreSQL: a round-robin rule hands two
orders to two different engineers (the cursor is read under a row lock), and one order
dispatched by two drains at once ends with one lead."""

import pytest

from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch
from tests.concurrency import run_concurrently
from tests.dispatch.conftest import order_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(3))
def test_round_robin_under_concurrent_drains_gives_two_engineers(world, attempt):
    rule = rule_services.create_rule(actor=world.dispatcher, name="Turns", strategy="round_robin")
    first, second = world.order, order_for(world)
    outcomes = run_concurrently(lambda: auto_dispatch(first), lambda: auto_dispatch(second))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    engineers = list(Assignment.objects.filter(rule=rule).values_list("engineer_id", flat=True))
    assert len(engineers) == 2 and len(set(engineers)) == 2
    assert DispatchRule.objects.get(pk=rule.pk).last_engineer_id == max(engineers)


@pytest.mark.parametrize("attempt", range(3))
def test_one_order_dispatched_by_two_drains_gets_one_lead(world, attempt):
    rule_services.create_rule(actor=world.dispatcher, name="Nearest", strategy="nearest")
    outcomes = run_concurrently(lambda: auto_dispatch(world.order), lambda: auto_dispatch(world.order))
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert Assignment.objects.filter(work_order=world.order).count() == 1
