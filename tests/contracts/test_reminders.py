"""The periodic check: contracts past their end expire; account owners are reminded before a
contract or a warranty ends, once per end date and threshold however often the check runs."""

import datetime as dt

import pytest

from fieldservice.assets import services as asset_services
from fieldservice.contracts import services, tasks
from fieldservice.contracts.choices import ContractStatus, ReminderSubject
from fieldservice.contracts.models import Contract, ExpiryReminder, ReminderSetting
from fieldservice.core.models import Event, OutboxMessage
from fieldservice.customers import services as customer_services
from tests.contracts.conftest import days, today


def messages(topic=None):
    rows = OutboxMessage.objects.order_by("pk")
    if topic:
        rows = rows.filter(topic=topic)
    return list(rows)


def run(on: dt.date) -> dict:
    return services.send_expiry_reminders(today=on)


@pytest.fixture
def owned(world):
    customer_services.update_customer(world.customer_a, actor=world.admin, account_owner=world.agent)
    world.customer_a.refresh_from_db()
    return world


def test_the_default_thresholds(db):
    assert services.reminder_days(ReminderSubject.CONTRACT) == [7, 30, 60]
    assert services.reminder_days(ReminderSubject.WARRANTY) == [30]


# Expiry


def test_active_contracts_past_their_end_expire_once(world, make_contract):
    ended = make_contract(activate=True, starts_on=days(-30), ends_on=days(-1))
    running = make_contract(activate=True, machines=[world.machine_a2], ends_on=days(0))
    draft = make_contract(world.customer_z, starts_on=days(-30), ends_on=days(-1))
    assert run(today())["expired"] == 1
    ended.refresh_from_db()
    assert ended.status == ContractStatus.EXPIRED
    event = Event.objects.get(action="expired")
    assert (event.object_pk, event.actor, event.changes) == (str(ended.pk), None, {"status": ["Active", "Expired"]})
    assert Contract.objects.get(pk=running.pk).status == ContractStatus.ACTIVE
    assert Contract.objects.get(pk=draft.pk).status == ContractStatus.DRAFT
    assert run(today())["expired"] == 0
    assert Event.objects.filter(action="expired").count() == 1


# Contract reminders


def test_a_contract_reminder_goes_to_the_account_owner_with_its_key(owned, make_contract):
    contract = make_contract(activate=True, ends_on=days(45))
    assert run(today())["contract_reminders"] == 1
    [message] = messages("contract.expiring")
    assert message.key == f"contract-exp:{contract.pk}:{days(45).isoformat()}:60"
    assert message.payload == {
        "event": "contract.expiring",
        "recipients": [owned.agent.pk],
        "context": {
            "contract": contract.number,
            "customer": "Customer A",
            "ends_on": days(45).isoformat(),
            "days_left": 45,
        },
        "url": f"/contracts/{contract.pk}/",
    }
    reminder = ExpiryReminder.objects.get()
    assert (reminder.contract, reminder.days_before, reminder.days_left) == (contract, 60, 45)


def test_running_twice_sends_nothing_twice(owned, make_contract):
    make_contract(activate=True, ends_on=days(45))
    run(today())
    again = run(today())
    assert again == {"expired": 0, "contract_reminders": 0, "warranty_reminders": 0}
    assert len(messages("contract.expiring")) == 1
    # Even if the outbox were cleaned up, the reminder row remembers it was sent.
    OutboxMessage.objects.all().delete()
    run(today())
    assert messages() == []


def test_each_threshold_fires_once_as_the_end_comes_closer(owned, make_contract):
    contract = make_contract(activate=True, starts_on=days(-300), ends_on=days(65))
    sent = []
    for day in range(0, 66):  # the check runs every day until the end
        run(days(day))
        sent = [m.key.rsplit(":", 1)[1] for m in messages("contract.expiring")]
    assert sent == ["60", "30", "7"]
    days_left = [m.payload["context"]["days_left"] for m in messages("contract.expiring")]
    assert days_left == [60, 30, 7]
    assert contract.reminders.count() == 3


def test_after_a_week_of_downtime_a_late_reminder_is_sent_once(owned, make_contract):
    make_contract(activate=True, starts_on=days(-300), ends_on=days(65))
    run(days(5))  # 60 days left
    # Down from 35 days left to 28 days left.
    run(days(37))
    run(days(37))
    keys = [m.key.rsplit(":", 1)[1] for m in messages("contract.expiring")]
    assert keys == ["60", "30"]
    assert messages("contract.expiring")[-1].payload["context"]["days_left"] == 28


def test_a_contract_that_is_already_close_gets_only_the_tightest_reminder(owned, make_contract):
    make_contract(activate=True, ends_on=days(5))
    run(today())
    run(days(1))
    assert [m.key.rsplit(":", 1)[1] for m in messages("contract.expiring")] == ["7"]


def test_the_last_day_still_reminds_and_the_day_after_expires(owned, make_contract):
    contract = make_contract(activate=True, starts_on=days(-30), ends_on=days(0))
    run(today())
    assert len(messages("contract.expiring")) == 1
    result = run(days(1))
    assert result["expired"] == 1 and result["contract_reminders"] == 0
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.EXPIRED


def test_drafts_ended_or_far_contracts_are_not_reminded(owned, make_contract):
    make_contract(ends_on=days(10))  # draft
    make_contract(activate=True, machines=[owned.machine_a2], ends_on=days(61))
    run(today())
    assert messages("contract.expiring") == []


def test_a_contract_renewed_by_an_active_extension_is_not_reminded(owned, make_contract):
    old = make_contract(activate=True, ends_on=days(20))
    new = services.extend_contract(old, actor=owned.admin, ends_on=days(400))
    run(today())  # extension still a draft: the renewal is not signed yet
    assert len(messages("contract.expiring")) == 1
    services.activate_contract(new, actor=owned.admin)
    run(days(14))  # 6 days left: the 7-day reminder would be due
    assert len(messages("contract.expiring")) == 1


def test_without_an_account_owner_the_contract_managers_are_reminded(world, make_contract):
    make_contract(activate=True, ends_on=days(20))
    run(today())
    [message] = messages("contract.expiring")
    assert message.payload["recipients"] == sorted([world.admin.pk, world.director.pk])


def test_an_inactive_owner_counts_as_none(owned, make_contract):
    owned.agent.is_active = False
    owned.agent.save()
    make_contract(activate=True, ends_on=days(20))
    run(today())
    assert owned.agent.pk not in messages("contract.expiring")[0].payload["recipients"]


def test_with_nobody_to_tell_nothing_is_sent_or_recorded_until_someone_is(world, make_contract):
    world.admin.is_active = False
    world.admin.save()
    world.director.is_active = False
    world.director.save()
    contract = Contract.objects.create(
        number="SC-HAND-9",
        customer=world.customer_a,
        sla_policy=world.policies.gold,
        starts_on=days(-10),
        ends_on=days(20),
        status=ContractStatus.ACTIVE,
    )
    run(today())
    assert messages() == [] and not ExpiryReminder.objects.exists()
    customer_services.update_customer(world.customer_a, actor=world.agent, account_owner=world.agent)
    run(days(1))
    [message] = messages("contract.expiring")
    assert message.key == f"contract-exp:{contract.pk}:{days(20).isoformat()}:30"


def test_an_inactive_threshold_is_skipped(owned, make_contract):
    ReminderSetting.objects.filter(subject=ReminderSubject.CONTRACT, days_before=60).update(is_active=False)
    make_contract(activate=True, ends_on=days(45))
    run(today())
    assert messages() == []
    ReminderSetting.objects.create(subject=ReminderSubject.CONTRACT, days_before=50)
    run(today())
    assert [m.key.rsplit(":", 1)[1] for m in messages()] == ["50"]


# Warranty reminders


def test_a_warranty_reminder_names_the_machine(owned):
    asset_services.update_equipment(owned.machine_a1, actor=owned.admin, warranty_ends_on=days(20))
    result = run(today())
    assert result["warranty_reminders"] == 1
    [message] = messages("warranty.expiring")
    assert message.key == f"warranty-exp:{owned.machine_a1.pk}:{days(20).isoformat()}:30"
    assert message.payload == {
        "event": "warranty.expiring",
        "recipients": [owned.agent.pk],
        "context": {
            "serial": "A-0001",
            "model": "IM-300 Injection moulder 300",
            "customer": "Customer A",
            "ends_on": days(20).isoformat(),
            "days_left": 20,
        },
        "url": f"/assets/equipment/{owned.machine_a1.pk}/",
    }
    run(days(3))
    assert len(messages("warranty.expiring")) == 1


def test_a_changed_warranty_end_is_a_new_reminder(owned):
    asset_services.update_equipment(owned.machine_a1, actor=owned.admin, warranty_ends_on=days(20))
    run(today())
    asset_services.update_equipment(owned.machine_a1, actor=owned.admin, warranty_ends_on=days(25))
    run(today())
    assert [m.payload["context"]["ends_on"] for m in messages("warranty.expiring")] == [
        days(20).isoformat(),
        days(25).isoformat(),
    ]


def test_no_warranty_reminder_for_a_machine_a_contract_takes_over_or_an_invalidated_one(owned, make_contract):
    asset_services.update_equipment(owned.machine_a1, actor=owned.admin, warranty_ends_on=days(20))
    asset_services.update_equipment(owned.machine_a2, actor=owned.admin, warranty_ends_on=days(20))
    make_contract(activate=True, starts_on=days(21), ends_on=days(400))
    asset_services.invalidate_equipment(owned.machine_a2, actor=owned.admin, reason="Scrapped")
    run(today())
    assert messages("warranty.expiring") == []


# The task


def test_the_periodic_task_runs_the_check(owned, make_contract, django_capture_on_commit_callbacks):
    contract = make_contract(activate=True, starts_on=days(-30), ends_on=days(-1))
    make_contract(activate=True, machines=[owned.machine_a2], ends_on=days(6))
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.send_expiry_reminders.call()
    assert result == {"expired": 1, "contract_reminders": 1, "warranty_reminders": 0}
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.EXPIRED
    assert len(messages("contract.expiring")) == 1
