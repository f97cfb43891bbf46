"""What a visit is entitled to: warranty, contract (with visits left), or chargeable, and which
SLA policy applies; decided and kept when the work order is created."""

import pytest

from fieldservice.assets import services as asset_services
from fieldservice.contracts import services
from fieldservice.contracts.choices import Entitlement
from fieldservice.contracts.services import decide_entitlement, entitlement_for_request
from fieldservice.workorders.services import intake
from fieldservice.workorders.services.lifecycle import cancel_work_order
from tests.contracts.conftest import days, today


def decide(world, machine, on=None, customer=None):
    return decide_entitlement(customer=customer or machine.customer, equipment=machine, priority="normal", on=on)


def order_for(world, machine, actor=None):
    request = intake.file_request(
        actor=actor or world.agent,
        channel="phone",
        customer=machine.customer,
        equipment=machine,
        description="Screw barrel heater fault",
    )
    return intake.create_work_order(request, actor=actor or world.agent)


def put_in_warranty(world, machine, until):
    asset_services.update_equipment(machine, actor=world.admin, warranty_starts_on=days(-300), warranty_ends_on=until)
    machine.refresh_from_db()


def test_in_warranty(world):
    put_in_warranty(world, world.machine_a1, days(65))
    decision = decide(world, world.machine_a1)
    assert decision.entitlement == Entitlement.WARRANTY
    assert decision.reason == f"In warranty until {days(65).isoformat()}"
    assert decision.contract is None
    assert decision.sla_policy == world.policies.default


def test_the_last_day_of_warranty_counts_and_the_next_does_not(world):
    put_in_warranty(world, world.machine_a1, days(0))
    assert decide(world, world.machine_a1).entitlement == Entitlement.WARRANTY
    assert decide(world, world.machine_a1, on=days(1)).entitlement == Entitlement.CHARGEABLE


def test_under_contract(world, make_contract):
    contract = make_contract(activate=True, level="gold", ends_on=days(200))
    decision = decide(world, world.machine_a1)
    assert decision.entitlement == Entitlement.CONTRACT
    assert decision.contract == contract
    assert decision.sla_policy == world.policies.gold
    assert decision.reason == f"Under contract {contract.number} (Gold) until {days(200).isoformat()}"


def test_warranty_wins_but_the_contract_gives_its_response_times(world, make_contract):
    contract = make_contract(activate=True)
    put_in_warranty(world, world.machine_a1, days(10))
    decision = decide(world, world.machine_a1)
    assert decision.entitlement == Entitlement.WARRANTY
    assert decision.contract is None  # a warranty visit does not use up a contract visit
    assert decision.sla_policy == world.policies.gold
    assert contract.number in decision.reason


@pytest.mark.parametrize("how", ["draft", "terminated", "not_started", "ended", "other_machine"])
def test_only_an_active_contract_covering_the_machine_that_day_counts(world, make_contract, how):
    if how == "draft":
        make_contract()
    elif how == "terminated":
        services.terminate_contract(make_contract(activate=True), actor=world.admin, reason="x")
    elif how == "not_started":
        make_contract(activate=True, starts_on=days(3))
    elif how == "ended":
        # Still marked active: the periodic check has not run since it ended.
        make_contract(activate=True, starts_on=days(-10), ends_on=days(0))
    else:
        make_contract(activate=True, machines=[world.machine_a2])
    on = days(1) if how == "ended" else None
    decision = decide(world, world.machine_a1, on=on)
    assert decision.entitlement == Entitlement.CHARGEABLE
    assert decision.reason == "No warranty or contract covers this machine"
    assert decision.contract is None


def test_limited_visits_count_down_and_then_the_visit_is_chargeable(world, make_contract):
    contract = make_contract(activate=True, included_visits=2)
    first = order_for(world, world.machine_a1)
    assert (first.entitlement, first.contract) == (Entitlement.CONTRACT, contract)
    assert first.entitlement_reason.endswith("visit 1 of 2")
    second = order_for(world, world.machine_a1)
    assert second.entitlement_reason.endswith("visit 2 of 2")
    third = order_for(world, world.machine_a1)
    assert third.entitlement == Entitlement.CHARGEABLE
    assert third.contract is None
    assert third.entitlement_reason == (
        f"Contract {contract.number} covers this machine, but all 2 included visits are used; this visit is chargeable"
    )
    assert third.sla_policy == world.policies.gold
    assert services.visits_used(contract) == 2
    assert services.visits_left(contract) == 0


def test_a_cancelled_order_gives_its_visit_back(world, make_contract):
    contract = make_contract(activate=True, included_visits=1)
    order = order_for(world, world.machine_a1)
    assert decide(world, world.machine_a1).entitlement == Entitlement.CHARGEABLE
    cancel_work_order(order, actor=world.agent, reason="Customer fixed it")
    assert services.visits_used(contract) == 0
    assert decide(world, world.machine_a1).entitlement == Entitlement.CONTRACT


def test_without_warranty_or_contract_the_tier_policy_applies(world):
    world.customer_a.tier = "key"
    world.customer_a.save()
    decision = decide(world, world.machine_a1)
    assert decision.entitlement == Entitlement.CHARGEABLE
    assert decision.sla_policy == world.policies.key


def test_otherwise_the_default_policy_and_none_if_there_is_none(world):
    assert decide(world, world.machine_a1).sla_policy == world.policies.default
    world.policies.default.is_active = False
    world.policies.default.save()
    assert decide(world, world.machine_a1).sla_policy is None


def test_an_inactive_tier_policy_falls_back_to_the_default(world):
    world.customer_a.tier = "key"
    world.customer_a.save()
    world.policies.key.is_active = False
    world.policies.key.save()
    assert decide(world, world.machine_a1).sla_policy == world.policies.default


def test_without_a_machine_nothing_covers_the_visit(world, make_contract):
    make_contract(activate=True)
    decision = decide_entitlement(customer=world.customer_a, equipment=None, priority="normal")
    assert decision.entitlement == Entitlement.CHARGEABLE
    assert "named machines" in decision.reason
    assert decision.contract is None
    assert decision.sla_policy == world.policies.default


def test_the_order_keeps_what_it_was_entitled_to(world, make_contract):
    contract = make_contract(activate=True, level="gold")
    order = order_for(world, world.machine_a1)
    order.refresh_from_db()
    assert order.entitlement == Entitlement.CONTRACT
    assert order.contract == contract
    assert order.sla_policy == world.policies.gold
    assert order.entitlement_reason.startswith(f"Under contract {contract.number} (Gold)")
    # A later termination does not rewrite why this visit was free.
    services.terminate_contract(contract, actor=world.admin, reason="Unpaid")
    order.refresh_from_db()
    assert order.entitlement == Entitlement.CONTRACT


def test_orders_in_warranty_and_chargeable(world):
    put_in_warranty(world, world.machine_a2, days(30))
    warranty = order_for(world, world.machine_a2)
    chargeable = order_for(world, world.machine_a1)
    assert (warranty.entitlement, warranty.sla_policy, warranty.contract) == (
        Entitlement.WARRANTY,
        world.policies.default,
        None,
    )
    assert (chargeable.entitlement, chargeable.entitlement_reason) == (
        Entitlement.CHARGEABLE,
        "No warranty or contract covers this machine",
    )


def test_entitlement_for_a_request_before_it_becomes_an_order(world, make_contract):
    contract = make_contract(activate=True)
    request = intake.file_request(
        actor=world.agent, channel="phone", customer=world.customer_a, equipment=world.machine_a1, description="Leak"
    )
    decision = entitlement_for_request(request)
    assert (decision.entitlement, decision.contract) == (Entitlement.CONTRACT, contract)
    request.equipment = None
    assert entitlement_for_request(request).entitlement == Entitlement.CHARGEABLE
    request.customer = None
    assert entitlement_for_request(request) is None


def test_today_is_the_default_day(world, make_contract):
    make_contract(activate=True, starts_on=today(), ends_on=today())
    assert decide(world, world.machine_a1).entitlement == Entitlement.CONTRACT
