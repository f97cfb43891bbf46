"""The periodic check: escalation rules fire once each, to the right people, and breaches are marked
and announced. The seeded rules: response not dispatched after 30 min → dispatchers, after 60 min →
team lead; arrival 80 % used → assigned engineer; any target breached → directors."""

from datetime import datetime

from django.urls import reverse

from fieldservice.core.models import OutboxMessage
from fieldservice.customers.services import update_customer
from fieldservice.sla import services, tasks
from fieldservice.sla.models import EscalationRule, SlaClock
from tests import factories
from tests.sla.conftest import at, clocks, dispatch, hold, local, make_order

WEDNESDAY_10 = local(2026, 3, 11, 10)  # response due 11:00, acceptance 12:00, arrival 15:00, resolution Thu 10:00


def escalations(**filters):
    return list(OutboxMessage.objects.filter(topic="sla.escalation", **filters).order_by("pk"))


def rule(name_start: str) -> EscalationRule:
    return EscalationRule.objects.get(name__contains=name_start)


def test_nothing_fires_before_its_time(sla):
    make_order(sla, WEDNESDAY_10)
    assert services.check_clocks(now=local(2026, 3, 11, 10, 29)) == {
        "checked": 0,
        "fired": 0,
        "breached": 0,
        "emitted": 0,
    }
    assert not OutboxMessage.objects.filter(topic__startswith="sla.").exists()


def test_a_rule_fires_once_with_its_message(sla):
    order = make_order(sla, WEDNESDAY_10)
    response = clocks(order)["response"]
    first = rule("Not dispatched after 30 min")
    counts = services.check_clocks(now=local(2026, 3, 11, 10, 30))
    assert counts == {"checked": 1, "fired": 1, "breached": 0, "emitted": 1}
    [message] = escalations()
    assert message.key == f"sla-esc:{response.pk}:{first.pk}"
    assert message.payload == {
        "event": "sla.warning",
        "recipients": [sla.dispatcher.pk],
        "context": {
            "number": order.number,
            "customer": "Customer A",
            "target": "Response (dispatched)",
            "due_at": "2026-03-11 11:00",
            "rule": first.name,
            "priority": "Normal",
        },
        "url": reverse("workorders:order_detail", args=[order.pk]),
        "work_order": order.pk,
        "target": "response",
        "rule": first.pk,
    }
    assert message.payload["url"] == f"/orders/{order.pk}/"
    response.refresh_from_db()
    assert response.next_check_at == local(2026, 3, 11, 11)  # the 60-minute rule and the due time

    # Run twice, and again with the clock forced back: nothing is sent twice.
    assert services.check_clocks(now=local(2026, 3, 11, 10, 31))["emitted"] == 0
    SlaClock.objects.filter(pk=response.pk).update(next_check_at=local(2026, 3, 11, 10))
    assert services.check_clocks(now=local(2026, 3, 11, 10, 45))["emitted"] == 0
    assert len(escalations()) == 1


def test_after_a_long_downtime_everything_overdue_fires_once(sla):
    order = make_order(sla, WEDNESDAY_10)
    found = clocks(order)
    now = local(2026, 3, 12, 12)  # Thursday noon: every target is past due
    counts = services.check_clocks(now=now)
    # response: 30 min, 60 min, breached; acceptance: breached; arrival: 80 %, breached; resolution: breached.
    assert counts == {"checked": 4, "fired": 7, "breached": 4, "emitted": 11}
    keys = {message.key for message in escalations()}
    assert keys == {
        f"sla-esc:{found['response'].pk}:{rule('after 30 min').pk}",
        f"sla-esc:{found['response'].pk}:{rule('after 60 min').pk}",
        f"sla-esc:{found['response'].pk}:{rule('breached').pk}",
        f"sla-esc:{found['acceptance'].pk}:{rule('breached').pk}",
        f"sla-esc:{found['arrival'].pk}:{rule('80').pk}",
        f"sla-esc:{found['arrival'].pk}:{rule('breached').pk}",
        f"sla-esc:{found['resolution'].pk}:{rule('breached').pk}",
    }
    breached = {m.key: m.payload["event"] for m in escalations(key__endswith=f":{rule('breached').pk}")}
    assert set(breached.values()) == {"sla.breached"}
    for clock in SlaClock.objects.filter(work_order=order):
        assert clock.breached_at == clock.due_at
        assert clock.next_check_at is None
    assert services.check_clocks(now=local(2026, 3, 12, 13)) == {"checked": 0, "fired": 0, "breached": 0, "emitted": 0}
    assert OutboxMessage.objects.filter(topic__startswith="sla.").count() == 11


def test_a_breach_is_marked_and_announced(sla):
    order = make_order(sla, WEDNESDAY_10)
    response = clocks(order)["response"]
    services.check_clocks(now=local(2026, 3, 11, 11, 0, 30))
    response.refresh_from_db()
    assert response.breached_at == local(2026, 3, 11, 11)
    [message] = OutboxMessage.objects.filter(topic="sla.breached")
    assert message.key == f"sla-breach:{response.pk}"
    payload = message.payload
    assert {key: payload[key] for key in ("work_order", "number", "target")} == {
        "work_order": order.pk,
        "number": order.number,
        "target": "response",
    }
    assert datetime.fromisoformat(payload["due_at"]) == local(2026, 3, 11, 11)
    assert datetime.fromisoformat(payload["breached_at"]) == local(2026, 3, 11, 11)
    director_message = escalations(key=f"sla-esc:{response.pk}:{rule('breached').pk}")[0]
    assert director_message.payload["event"] == "sla.breached"
    assert director_message.payload["recipients"] == [sla.director.pk]


def test_the_team_lead_of_the_assigned_engineer_and_the_fallback(sla):
    services.create_rule(
        actor=sla.admin, name="Acceptance 30", target="acceptance", after_minutes=30, notify="team_lead"
    )
    team_rule = rule("Acceptance 30")
    in_team = make_order(sla, WEDNESDAY_10)
    alone = make_order(sla, WEDNESDAY_10)
    dispatch(sla, in_team, local(2026, 3, 11, 10, 5), engineer=sla.engineer)
    dispatch(sla, alone, local(2026, 3, 11, 10, 5), engineer=sla.lone_engineer)
    services.check_clocks(now=local(2026, 3, 11, 14, 30))

    def recipients(order, kind, fired_rule):
        key = f"sla-esc:{clocks(order)[kind].pk}:{fired_rule.pk}"
        return OutboxMessage.objects.get(key=key).payload["recipients"]

    assert recipients(in_team, "acceptance", team_rule) == [sla.lead.pk]
    assert recipients(alone, "acceptance", team_rule) == [sla.dispatcher.pk]
    # Arrival 80 % (14:12) goes to the assigned engineer.
    assert recipients(in_team, "arrival", rule("80")) == [sla.engineer.pk]
    assert recipients(alone, "arrival", rule("80")) == [sla.lone_engineer.pk]
    # The dispatch met the response clocks: their rules never fired.
    assert not OutboxMessage.objects.filter(key__startswith=f"sla-esc:{clocks(in_team)['response'].pk}:").exists()


def test_nobody_assigned_falls_back_to_active_dispatchers(sla):
    second = factories.user("dispatcher", organisation=sla.own)
    gone = factories.user("dispatcher", organisation=sla.own)
    gone.is_active = False
    gone.save()
    order = make_order(sla, WEDNESDAY_10)
    services.check_clocks(now=local(2026, 3, 11, 11, 30))
    team_lead = [m for m in escalations() if m.payload["rule"] == rule("after 60 min").pk]
    assert team_lead[0].payload["recipients"] == sorted([sla.dispatcher.pk, second.pk])
    assert team_lead[0].payload["work_order"] == order.pk


def test_the_account_owner(sla):
    update_customer(sla.customer_a, actor=sla.admin, account_owner=sla.agent)
    services.create_rule(actor=sla.admin, name="Tell the owner", percent_used=50, notify="account_owner")
    owner_rule = rule("Tell the owner")
    with_owner = make_order(sla, WEDNESDAY_10)
    without_owner = make_order(sla, WEDNESDAY_10, customer=sla.customer_z)
    services.check_clocks(now=local(2026, 3, 11, 10, 30))
    key = f"sla-esc:{clocks(with_owner)['response'].pk}:{owner_rule.pk}"
    assert OutboxMessage.objects.get(key=key).payload["recipients"] == [sla.agent.pk]
    key = f"sla-esc:{clocks(without_owner)['response'].pk}:{owner_rule.pk}"
    assert OutboxMessage.objects.get(key=key).payload["recipients"] == [sla.dispatcher.pk]


def test_rules_for_some_priorities_only(sla):
    services.create_rule(
        actor=sla.admin, name="Urgent 10", target="response", after_minutes=10, priorities=["urgent"], notify="director"
    )
    urgent_rule = rule("Urgent 10")
    urgent = make_order(sla, WEDNESDAY_10, priority="urgent")
    normal = make_order(sla, WEDNESDAY_10)
    services.check_clocks(now=local(2026, 3, 11, 10, 20))
    assert OutboxMessage.objects.filter(key=f"sla-esc:{clocks(urgent)['response'].pk}:{urgent_rule.pk}").exists()
    assert not OutboxMessage.objects.filter(key=f"sla-esc:{clocks(normal)['response'].pk}:{urgent_rule.pk}").exists()


def test_paused_met_and_stopped_clocks_are_not_checked(sla):
    order = make_order(sla, WEDNESDAY_10)
    dispatch(sla, order, local(2026, 3, 11, 10, 5))  # response met
    hold(sla, order, local(2026, 3, 11, 10, 10), "waiting_customer")  # the others paused
    counts = services.check_clocks(now=local(2026, 3, 13, 12))
    assert counts["checked"] == 0
    assert not OutboxMessage.objects.filter(topic__startswith="sla.").exists()


def test_inactive_rules_do_not_fire(sla):
    services.update_rule(rule("after 30 min"), actor=sla.admin, is_active=False)
    make_order(sla, WEDNESDAY_10)
    assert services.check_clocks(now=local(2026, 3, 11, 10, 40))["fired"] == 0


def test_a_new_rule_is_applied_to_running_clocks(sla):
    order = make_order(sla, WEDNESDAY_10)
    services.check_clocks(now=local(2026, 3, 11, 10, 30))
    response = clocks(order)["response"]
    assert response.next_check_at == local(2026, 3, 11, 11)
    with at(local(2026, 3, 11, 10, 35)):
        new = services.create_rule(
            actor=sla.admin, name="Twenty", target="response", after_minutes=20, notify="director"
        )
    services.check_clocks(now=local(2026, 3, 11, 10, 40))
    assert OutboxMessage.objects.filter(key=f"sla-esc:{response.pk}:{new.pk}").exists()


def test_the_check_reads_in_bulk(sla, django_assert_max_num_queries):
    for _ in range(12):
        make_order(sla, WEDNESDAY_10)
    for _ in range(3):
        dispatch(sla, make_order(sla, WEDNESDAY_10), local(2026, 3, 11, 10, 5), engineer=sla.engineer)
    # 60 clocks, each with rules for every role: the number of queries does not grow with them.
    services.create_rule(actor=sla.admin, name="Owner", percent_used=10, notify="account_owner")
    services.create_rule(actor=sla.admin, name="Lead", percent_used=20, notify="team_lead")
    with django_assert_max_num_queries(15):
        counts = services.check_clocks(now=local(2026, 3, 12, 12))
    assert counts["checked"] == 57  # 15 orders × 4 clocks, less 3 response clocks met by dispatch
    assert counts["emitted"] > 100


def test_the_periodic_task_runs_the_check(sla):
    make_order(sla, WEDNESDAY_10)
    with at(local(2026, 3, 11, 10, 31)):
        result = tasks.check_sla.call()
    assert result["emitted"] == 1
    assert escalations()[0].payload["event"] == "sla.warning"
