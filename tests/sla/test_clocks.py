"""Clocks started by the order's creation and moved by its transitions, through the real services."""

import pytest

from fieldservice.sla.models import SlaClock
from fieldservice.sla.services import on_transition, start_clocks
from fieldservice.workorders.services.lifecycle import cancel_work_order
from tests.sla.conftest import (
    accept,
    at,
    check_in,
    clocks,
    complete,
    dispatch,
    hold,
    local,
    make_order,
    resume,
)


def test_creation_starts_one_clock_per_target(sla):
    order = make_order(sla, local(2026, 3, 11, 10))  # a Wednesday, normal priority
    found = clocks(order)
    assert order.sla_policy == sla.policy
    assert {kind: clock.due_at for kind, clock in found.items()} == {
        "response": local(2026, 3, 11, 11),
        "acceptance": local(2026, 3, 11, 12),
        "arrival": local(2026, 3, 11, 15),  # lunch 12:00–13:00 left out
        "resolution": local(2026, 3, 12, 10),  # 7 h on Wednesday, 1 h on Thursday
    }
    response = found["response"]
    assert response.target_minutes == 60 and response.started_at == local(2026, 3, 11, 10)
    assert response.at_risk_at == local(2026, 3, 11, 10, 48)
    # The first rule of a response clock fires 30 business minutes after the start.
    assert response.next_check_at == local(2026, 3, 11, 10, 30)
    # Resolution: only the "any target breached" rule applies, at the due time.
    assert found["resolution"].next_check_at == local(2026, 3, 12, 10)
    assert all(clock.is_running for clock in found.values())


def test_urgent_orders_take_the_urgent_targets(sla):
    order = make_order(sla, local(2026, 3, 13, 17, 45), priority="urgent")  # Friday evening
    found = clocks(order)
    assert found["response"].due_at == local(2026, 3, 16, 9, 15)
    # 15 minutes on Friday, 3 h on Monday morning, 45 minutes after lunch.
    assert found["resolution"].due_at == local(2026, 3, 16, 13, 45)


def test_no_policy_or_no_targets_means_no_clocks(sla):
    order = make_order(sla, local(2026, 3, 11, 10), priority="high")  # "high" has no targets here
    assert not order.sla_clocks.exists()
    order = make_order(sla, local(2026, 3, 11, 10))
    order.sla_clocks.all().delete()
    order.sla_policy = None
    start_clocks(order)
    assert not order.sla_clocks.exists()


def test_every_milestone_meets_its_clock(sla):
    order = make_order(sla, local(2026, 3, 11, 10))
    assignment = dispatch(sla, order, local(2026, 3, 11, 10, 20))
    found = clocks(order)
    assert found["response"].met_at == local(2026, 3, 11, 10, 20)
    assert found["response"].next_check_at is None
    assert [kind for kind, clock in found.items() if clock.met_at is None] == ["acceptance", "arrival", "resolution"]

    accept(sla, assignment, local(2026, 3, 11, 10, 40))
    assert clocks(order)["acceptance"].met_at == local(2026, 3, 11, 10, 40)
    assert clocks(order)["arrival"].met_at is None

    check_in(sla, order, local(2026, 3, 11, 14))
    assert clocks(order)["arrival"].met_at == local(2026, 3, 11, 14)
    assert clocks(order)["resolution"].met_at is None

    complete(sla, order, local(2026, 3, 11, 16))
    found = clocks(order)
    assert found["resolution"].met_at == local(2026, 3, 11, 16)
    assert all(clock.breached_at is None and clock.next_check_at is None for clock in found.values())


def test_a_late_milestone_counts_as_breached_at_the_due_time(sla):
    order = make_order(sla, local(2026, 3, 11, 10))
    dispatch(sla, order, local(2026, 3, 11, 13, 30))  # due 11:00
    response = clocks(order)["response"]
    assert response.met_at == local(2026, 3, 11, 13, 30)
    assert response.breached_at == local(2026, 3, 11, 11)


def test_completing_meets_every_earlier_clock_still_running(sla):
    order = make_order(sla, local(2026, 3, 11, 10))
    with at(local(2026, 3, 11, 10, 5)):
        on_transition(order, "complete", at=local(2026, 3, 11, 10, 5))
    assert {clock.met_at for clock in clocks(order).values()} == {local(2026, 3, 11, 10, 5)}


def test_cancelling_stops_every_running_clock(sla):
    order = make_order(sla, local(2026, 3, 11, 10))
    dispatch(sla, order, local(2026, 3, 11, 10, 20))
    with at(local(2026, 3, 11, 10, 30)):
        cancel_work_order(order, actor=sla.dispatcher, reason="Customer fixed it")
    found = clocks(order)
    assert found["response"].stopped_at is None  # already met
    for kind in ("acceptance", "arrival", "resolution"):
        assert found[kind].stopped_at == local(2026, 3, 11, 10, 30)
        assert found[kind].met_at is None and found[kind].next_check_at is None


def _on_site_on_friday(sla):
    """Created Friday 13 March 09:00; on site at 11:00; resolution due Friday 18:00."""
    order = make_order(sla, local(2026, 3, 13, 9))
    assignment = dispatch(sla, order, local(2026, 3, 13, 9, 10))
    accept(sla, assignment, local(2026, 3, 13, 9, 20))
    check_in(sla, order, local(2026, 3, 13, 11))
    assert clocks(order)["resolution"].due_at == local(2026, 3, 13, 18)
    return order


def test_waiting_for_the_customer_pauses_and_resuming_moves_the_due_time(sla):
    order = _on_site_on_friday(sla)
    hold(sla, order, local(2026, 3, 13, 17), "waiting_customer")
    resolution = clocks(order)["resolution"]
    assert resolution.paused_at == local(2026, 3, 13, 17)
    assert resolution.next_check_at is None
    assert not SlaClock.objects.filter(pk=resolution.pk, paused_at__isnull=True).exists()

    resume(sla, order, local(2026, 3, 16, 10))  # Monday 10:00
    resolution = clocks(order)["resolution"]
    # One business hour was left at 17:00 on Friday: Monday 10:00 + 1 h.
    assert resolution.due_at == local(2026, 3, 16, 11)
    assert resolution.paused_at is None
    # Friday 17:00–18:00 and Monday 09:00–10:00 were spent waiting.
    assert resolution.paused_business_minutes == 120
    assert resolution.at_risk_at == local(2026, 3, 16, 9, 24)  # 80 % of 480 + 120 paused
    assert resolution.next_check_at == local(2026, 3, 16, 11)


def test_waiting_for_parts_does_not_pause(sla):
    order = _on_site_on_friday(sla)
    before = clocks(order)["resolution"]
    hold(sla, order, local(2026, 3, 13, 17), "waiting_parts")
    resolution = clocks(order)["resolution"]
    assert resolution.paused_at is None
    assert resolution.due_at == local(2026, 3, 13, 18)
    assert resolution.next_check_at == before.next_check_at
    resume(sla, order, local(2026, 3, 16, 10))
    assert clocks(order)["resolution"].due_at == local(2026, 3, 13, 18)
    assert clocks(order)["resolution"].paused_business_minutes == 0


def test_a_clock_paused_after_its_due_time_stays_due_then(sla):
    order = make_order(sla, local(2026, 3, 13, 9))
    assignment = dispatch(sla, order, local(2026, 3, 13, 9, 10))
    accept(sla, assignment, local(2026, 3, 13, 9, 20))
    # Arrival was due at 14:00; the order waits for the customer from 15:00.
    hold(sla, order, local(2026, 3, 13, 15), "waiting_customer")
    resume(sla, order, local(2026, 3, 16, 10))
    arrival = clocks(order)["arrival"]
    assert arrival.due_at == local(2026, 3, 13, 14)
    assert arrival.paused_business_minutes == 240  # Friday 15:00–18:00 and Monday 09:00–10:00


def test_a_paused_clock_met_while_paused_keeps_its_pause(sla):
    order = _on_site_on_friday(sla)
    hold(sla, order, local(2026, 3, 13, 17), "waiting_customer")
    with at(local(2026, 3, 16, 9, 30)):
        on_transition(order, "complete", at=local(2026, 3, 16, 9, 30))
    resolution = clocks(order)["resolution"]
    assert resolution.met_at == local(2026, 3, 16, 9, 30)
    assert resolution.paused_at is None and resolution.paused_business_minutes == 90
    # The pause ends with the move: the hour left on Friday runs from 09:30, so it is met in time.
    assert resolution.due_at == local(2026, 3, 16, 10, 30)
    assert resolution.breached_at is None


@pytest.mark.parametrize("verb", ["start_travel", "reject", "revoke", "close"])
def test_other_moves_leave_the_clocks_alone(sla, verb):
    order = make_order(sla, local(2026, 3, 11, 10))
    before = {
        clock.pk: (clock.met_at, clock.stopped_at, clock.paused_at, clock.due_at) for clock in order.sla_clocks.all()
    }
    on_transition(order, verb, at=local(2026, 3, 11, 10, 30))
    after = {
        clock.pk: (clock.met_at, clock.stopped_at, clock.paused_at, clock.due_at) for clock in order.sla_clocks.all()
    }
    assert before == after
