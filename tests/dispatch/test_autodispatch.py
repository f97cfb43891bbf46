"""Auto-dispatch: the first matching rule decides, each strategy picks as documented, the
outbox consumer runs it on created / rejected / revoked orders, the batch writes what the
single path writes, and nobody qualified leaves the order in the queue with a note."""

from decimal import Decimal

from fieldservice.accounts.choices import Role
from fieldservice.core import outbox
from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.dispatch.rules.autodispatch import auto_dispatch, auto_dispatch_many
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from tests.dispatch.conftest import order_for


def rule(world, **fields):
    return rule_services.create_rule(actor=world.dispatcher, **{"name": f"R{DispatchRule.objects.count()}", **fields})


def lead(order):
    return Assignment.objects.filter(work_order=order, role="lead", status__in=["offered", "accepted"]).first()


def test_no_rule_leaves_the_order_alone(world):
    assert auto_dispatch(world.order) is None
    world.order.refresh_from_db()
    assert world.order.status == "new" and not Assignment.objects.exists()


def test_the_first_matching_rule_wins(world):
    rule(
        world, conditions={"priority": ["urgent"]}, target_kind="engineer", target_engineer=world.far, strategy="fixed"
    )
    second = rule(
        world,
        conditions={"fault_category": [world.fault.pk]},
        target_kind="engineer",
        target_engineer=world.engineer,
        strategy="fixed",
    )
    rule(world, target_kind="engineer", target_engineer=world.provider_engineer, strategy="fixed")
    decision = auto_dispatch(world.order)
    assert decision.rule == second
    assignment = lead(world.order)
    assert (assignment.engineer, assignment.rule, assignment.assigned_by) == (world.engineer, second, None)
    world.order.refresh_from_db()
    assert world.order.status == "dispatched"
    event = WorkOrderEvent.objects.get(work_order=world.order, action="dispatch")
    assert second.name in event.note and event.actor is None
    second.refresh_from_db()
    assert second.matched_count == 1


def test_an_already_dispatched_order_is_left_alone(world):
    rule(world, target_kind="engineer", target_engineer=world.engineer, strategy="fixed")
    services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.far)
    assert auto_dispatch(world.order) is None
    assert Assignment.objects.count() == 1


def test_least_open_work(world):
    other = order_for(world)
    services.dispatch_to_engineer(other, actor=world.dispatcher, engineer=world.engineer)
    rule(world, strategy="least_open")
    auto_dispatch(world.order)
    # Suitable and idle: far (own) and the provider's engineer; the lowest pk among equals.
    picked = lead(world.order).engineer
    assert picked != world.engineer
    assert picked in (world.far, world.provider_engineer, world.off_duty)


def test_nearest_picks_the_nearest_on_duty_qualified(world):
    rule(world, strategy="nearest")
    auto_dispatch(world.order)
    # engineer lives next to the site; off_duty lives there too but is off duty.
    assert lead(world.order).engineer == world.engineer


def test_round_robin_takes_turns(world):
    r = rule(world, strategy="round_robin", target_kind="anyone")
    picks = []
    for _ in range(3):
        order = order_for(world)
        auto_dispatch(order)
        picks.append(lead(order).engineer_id)
    assert len(set(picks)) == 3
    assert picks == sorted(picks)
    r.refresh_from_db()
    assert r.last_engineer_id == picks[-1]


def test_best_match_weighs_the_last_engineer_of_the_machine(world):
    r = rule(
        world, strategy="best_match", weights={"skill": 0, "distance": 0, "load": 0, "last_engineer": 1, "rating": 0}
    )
    # far served this machine last (a completed order on the same equipment).
    earlier = world.order
    services.dispatch_to_engineer(earlier, actor=world.dispatcher, engineer=world.far)
    WorkOrder.objects.filter(pk=earlier.pk).update(status="completed")
    Assignment.objects.filter(work_order=earlier).update(status=AssignmentStatus.ACCEPTED)
    from fieldservice.workorders.services.intake import create_work_order

    again = create_work_order(earlier.request, actor=world.agent, equipment=earlier.equipment)
    auto_dispatch(again)
    assert lead(again).engineer == world.far and lead(again).rule == r


def test_unskilled_or_elsewhere_engineers_are_never_picked(world):
    rule(world, strategy="best_match")
    auto_dispatch(world.order)
    assert lead(world.order).engineer not in (
        world.unskilled,
        world.elsewhere,
        world.on_leave,
        world.other_provider_engineer,
    )


def test_nobody_qualified_leaves_the_order_in_the_queue_with_a_note(world):
    team = world.hydraulics  # placeholder to keep the world; a team with nobody in it
    from fieldservice.accounts.models import ServiceTeam

    empty = ServiceTeam.objects.create(name="Empty", organisation=world.own)
    r = rule(world, target_kind="team", target_team=empty, strategy="least_open")
    auto_dispatch(world.order)
    world.order.refresh_from_db()
    assert world.order.status == "new" and not Assignment.objects.exists()
    note = WorkOrderEvent.objects.get(work_order=world.order, action="auto_dispatch").note
    assert r.name in note and team is not None


def test_a_provider_target_gives_the_order_to_the_provider(world):
    rule(world, target_kind="provider", target_provider=world.provider, strategy="fixed")
    auto_dispatch(world.order)
    assert lead(world.order).provider == world.provider


def test_the_consumer_dispatches_new_orders_and_again_after_a_reject(world, django_capture_on_commit_callbacks):
    outbox.drain()  # the world's own messages, before any rule
    rule(world, strategy="nearest")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(world)
    first = lead(order)
    assert first is not None and first.engineer == world.engineer and first.rule is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_assignment(first, actor=world.engineer, reason="Too busy")
    second = lead(order)
    # The engineer who gave it back is not offered it again.
    assert second is not None and second.engineer not in (world.engineer, None)
    # Draining again (a message seen twice) changes nothing.
    from fieldservice.dispatch.rules.consumers import consume_batch

    count = Assignment.objects.filter(work_order=order).count()
    consume_batch(list(outbox.OutboxMessage.objects.filter(payload__work_order=order.pk)))
    assert Assignment.objects.filter(work_order=order).count() == count == 2


def test_the_batch_writes_what_the_single_path_writes(world):
    rule(world, strategy="nearest")
    one, many = order_for(world), order_for(world)
    auto_dispatch(one)
    counts = auto_dispatch_many([many, world.order])
    assert counts["assigned"] == 2
    for order in (one, many):
        order.refresh_from_db()
        assert order.status == "dispatched"
        event = WorkOrderEvent.objects.filter(work_order=order, action="dispatch").get()
        assert (event.from_status, event.to_status, event.actor_id) == ("new", "dispatched", None)
        assert event.payload["rule"] == lead(order).rule_id
    # A second batch over the same orders does nothing.
    assert auto_dispatch_many([one, many])["waiting"] == 0
    assert Assignment.objects.count() == 3
    assert outbox.OutboxMessage.objects.filter(topic="work_order.transitioned", payload__work_order=many.pk).exists()


def test_the_batch_meets_the_response_clock(world):
    rule(world, strategy="nearest")
    clocks = SlaClock.objects.filter(work_order=world.order, kind="response")
    assert clocks.exists(), "the order must have a running response clock for this test to mean anything"
    auto_dispatch_many([world.order])
    assert clocks.get().met_at is not None


def test_a_pool_rule_publishes_to_the_pool(world):
    from fieldservice.pool.models import PoolOffer

    r = rule(world, action="pool", pool_minutes=30, pool_requires_approval=True)
    auto_dispatch(world.order)
    offer = PoolOffer.objects.get(work_order=world.order)
    assert (offer.rule, offer.requires_approval) == (r, True)
    assert not Assignment.objects.exists()
    # In the pool: the rules leave it alone.
    assert auto_dispatch(world.order) is None


def test_a_fixed_engineer_on_leave_is_not_picked(world):
    rule(world, target_kind="engineer", target_engineer=world.on_leave, strategy="fixed")
    auto_dispatch(world.order)
    assert not Assignment.objects.exists()
    assert WorkOrderEvent.objects.filter(work_order=world.order, action="auto_dispatch").exists()


def test_area_polygon_conditions(world):
    world.site_a.latitude, world.site_a.longitude = Decimal("29.87"), Decimal("121.54")
    world.site_a.save()
    inside = [[121.0, 29.0], [122.0, 29.0], [122.0, 30.0], [121.0, 30.0], [121.0, 29.0]]
    rule_services.set_area_polygon(world.hangzhou, actor=world.admin, polygon=inside)
    r = rule(
        world,
        conditions={"area": [world.hangzhou.pk]},
        target_kind="engineer",
        target_engineer=world.far,
        strategy="fixed",
    )
    auto_dispatch(world.order)
    assert lead(world.order).rule == r
    assert Role.ENGINEER


def test_a_pick_refused_at_the_last_moment_leaves_a_note_not_a_failure(world, monkeypatch):
    rule(world, target_kind="engineer", target_engineer=world.engineer, strategy="fixed")

    def refuse(*args, **kwargs):
        from django.core.exceptions import ValidationError

        raise ValidationError({"engineer": "went on leave a moment ago"})

    monkeypatch.setattr(services, "dispatch_by_rules", refuse)
    decision = auto_dispatch(world.order)
    assert decision.engineer_id is None and "went on leave" in decision.reason
    world.order.refresh_from_db()
    assert world.order.status == "new" and not Assignment.objects.exists()
    assert "went on leave" in WorkOrderEvent.objects.get(work_order=world.order, action="auto_dispatch").note


def test_a_team_rule_never_reaches_a_provider_that_does_not_serve_the_customer(world):
    from fieldservice.accounts import services as account_services
    from fieldservice.accounts.models import ServiceTeam

    team_c = ServiceTeam.objects.create(name="Provider C team", organisation=world.other_provider)
    account_services.save_engineer_profile(world.other_provider_engineer, actor=world.admin, team=team_c)
    rule(world, target_kind="team", target_team=team_c, strategy="nearest")
    # Provider C's engineer is skilled, on duty and next to the site, but C does not serve A.
    auto_dispatch(world.order)
    assert not Assignment.objects.exists()
    assert WorkOrderEvent.objects.filter(work_order=world.order, action="auto_dispatch").exists()


def test_a_rejected_order_skips_its_lead_and_its_helpers_in_the_batch(world):
    first = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.far)
    services.add_helper(world.order, actor=world.dispatcher, engineer=world.engineer)  # the nearest
    services.reject_assignment(first, actor=world.far, reason="Broken van")
    rule(world, strategy="nearest")
    assert auto_dispatch_many([world.order])["assigned"] == 1
    assert lead(world.order).engineer not in (world.far, world.engineer)
