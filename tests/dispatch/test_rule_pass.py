"""A rule pass over many orders (one batch through the lifecycle's batch path): every order is
written once and completely, the rule counters and the round-robin cursor cover the whole pass,
the drain is enqueued once, late response clocks count as breached."""

from datetime import timedelta

from django.utils import timezone

from fieldservice.core import outbox
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch_many
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.models import WorkOrderEvent
from tests import factories
from tests.dispatch.conftest import order_for


def rule(world, **fields):
    return rule_services.create_rule(actor=world.dispatcher, **{"name": f"R{DispatchRule.objects.count()}", **fields})


def test_every_order_is_written_once_and_completely(world, django_capture_on_commit_callbacks, monkeypatch):
    round_robin = rule(world, conditions={"priority": ["normal"]}, strategy="round_robin")
    provider = rule(
        world,
        conditions={"priority": ["high"]},
        target_kind="provider",
        target_provider=world.provider,
        strategy="fixed",
    )
    nowhere = factories.site(world.customer_a, name="Nowhere", city="Wenzhou", province="Zhejiang")
    orders = [world.order, *(order_for(world) for _ in range(3)), order_for(world, priority="high")]
    stranded = order_for(world, site=nowhere)
    drains = []
    monkeypatch.setattr(outbox, "enqueue_drain", lambda: drains.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        counts = auto_dispatch_many([*orders, stranded])
    assert (counts["assigned"], counts["nobody"], counts["matched"]) == (5, 1, 6)
    assert drains == [1]
    for order in orders:
        order.refresh_from_db()
        assert order.status == "dispatched"
        (lead,) = Assignment.objects.filter(work_order=order, role="lead", status="offered")
        event = WorkOrderEvent.objects.get(work_order=order, action="dispatch")
        assert (event.from_status, event.to_status, event.payload["rule"]) == ("new", "dispatched", lead.rule_id)
        assert outbox.OutboxMessage.objects.filter(topic="work_order.transitioned", payload__work_order=order.pk)
        if lead.rule_id == provider.pk:
            assert lead.provider == world.provider and event.payload["provider_name"] == world.provider.name
        else:
            assert event.payload["engineer_name"] == str(lead.engineer)
    stranded.refresh_from_db()
    assert stranded.status == "new" and not Assignment.objects.filter(work_order=stranded).exists()
    note = WorkOrderEvent.objects.get(work_order=stranded, action="auto_dispatch")
    assert round_robin.name in note.note and note.payload == {"rule": round_robin.pk}
    round_robin.refresh_from_db()
    provider.refresh_from_db()
    assert (round_robin.matched_count, provider.matched_count) == (5, 1)
    # The cursor is the engineer the last order (by pk) got.
    last = Assignment.objects.filter(rule=round_robin).order_by("-work_order_id").first()
    assert round_robin.last_engineer_id == last.engineer_id
    # Round robin moved on from one order to the next: not everyone got the same engineer.
    assert Assignment.objects.filter(rule=round_robin).values("engineer").distinct().count() > 1


def test_late_response_clocks_are_met_and_breached_at_their_due_time(world):
    rule(world, strategy="nearest")
    late, on_time = order_for(world), order_for(world)
    clocks = SlaClock.objects.filter(work_order__in=[late, on_time], kind="response")
    assert clocks.count() == 2, "both orders must have a running response clock for this test to mean anything"
    due = timezone.now() - timedelta(minutes=5)
    clocks.filter(work_order=late).update(due_at=due)
    auto_dispatch_many([late, on_time, world.order])
    late_clock, on_time_clock = clocks.get(work_order=late), clocks.get(work_order=on_time)
    assert late_clock.met_at is not None and late_clock.breached_at == due
    assert on_time_clock.met_at is not None and on_time_clock.breached_at is None
