"""Contract rules: numbering, validation with field-named errors and nothing half-written, the
status moves, extensions and their chain, price lists."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.assets import services as asset_services
from fieldservice.contracts import services
from fieldservice.contracts.choices import ContractStatus, PriceItemKind
from fieldservice.contracts.models import Contract, PriceList, PriceListItem
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from tests import factories
from tests.contracts.conftest import days, today


def events_of(contract, action=None):
    events = Event.objects.filter(content_type__model="contract", object_pk=str(contract.pk))
    return events.filter(action=action) if action else events


# Create


def test_create_numbers_the_draft_and_records_it(world, make_contract):
    first = make_contract()
    second = make_contract(world.customer_z)
    assert re.fullmatch(rf"SC{today().year}-0001", first.number)
    assert second.number == f"SC{today().year}-0002"
    assert first.status == ContractStatus.DRAFT
    assert list(first.equipment.all()) == [world.machine_a1]
    assert first.created_by == world.admin
    event = events_of(first, "created").get()
    assert "A-0001" in event.note
    assert event.changes["customer"] == [None, "Customer A"]


def test_create_without_a_policy_takes_the_tier_policy_then_the_default(world):
    world.customer_a.tier = "key"
    world.customer_a.save()
    keyed = services.create_contract(
        actor=world.admin, customer=world.customer_a, starts_on=today(), ends_on=days(30), equipment=[]
    )
    plain = services.create_contract(
        actor=world.admin, customer=world.customer_z, starts_on=today(), ends_on=days(30), equipment=[]
    )
    assert keyed.sla_policy == world.policies.key
    assert plain.sla_policy == world.policies.default


def test_create_takes_the_default_price_list(world, make_contract):
    default = services.create_price_list(actor=world.admin, name="Standard", is_default=True)
    assert make_contract().price_list == default
    assert make_contract(world.customer_z, price_list=None).price_list is None


def test_the_number_continues_after_the_highest_of_the_year(world, make_contract):
    Contract.objects.create(
        number=f"SC{today().year}-0041",
        customer=world.customer_z,
        sla_policy=world.policies.gold,
        starts_on=days(-900),
        ends_on=days(-800),
    )
    assert make_contract().number == f"SC{today().year}-0042"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"ends_on": days(-1)}, "ends_on"),
        ({"level": "platinum"}, "level"),
        ({"included_visits": 0}, "included_visits"),
        ({"annual_fee": "-5"}, "annual_fee"),
        ({"annual_fee": "12.345"}, "annual_fee"),
        ({"annual_fee": "lots"}, "annual_fee"),
        ({"currency": "yuan"}, "currency"),
        ({"parts_coverage": "some"}, "parts_coverage"),
        ({"status": "active"}, "status"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(world, make_contract, fields, field):
    before = Contract.objects.count()
    with pytest.raises(ValidationError) as error:
        make_contract(**fields)
    assert field in error.value.error_dict
    assert Contract.objects.count() == before
    assert not Event.objects.filter(content_type__model="contract").exists()


def test_an_inactive_policy_or_price_list_is_refused(world, make_contract):
    with pytest.raises(ValidationError) as error:
        make_contract(sla_policy=world.policies.retired)
    assert "sla_policy" in error.value.error_dict
    retired = services.create_price_list(actor=world.admin, name="Old prices", is_active=False)
    with pytest.raises(ValidationError) as error:
        make_contract(price_list=retired)
    assert "price_list" in error.value.error_dict
    assert not Contract.objects.exists()


def test_machines_of_another_customer_are_refused_by_name(world, make_contract):
    with pytest.raises(ValidationError) as error:
        make_contract(machines=[world.machine_a1, world.machine_z])
    message = error.value.error_dict["equipment"][0].message
    assert "Z-0001" in message and "another customer" in message
    assert not Contract.objects.exists()


def test_an_invalidated_machine_is_refused(world, make_contract):
    asset_services.invalidate_equipment(world.machine_a2, actor=world.admin, reason="Scrapped")
    world.machine_a2.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        make_contract(machines=[world.machine_a2])
    assert error.value.error_dict["equipment"][0].code == "not_registered"


@pytest.mark.parametrize("activate_first", [False, True])
def test_overlapping_contracts_on_one_machine_are_refused_naming_machine_and_contract(
    world, make_contract, activate_first
):
    existing = make_contract(activate=activate_first, starts_on=days(10), ends_on=days(100))
    with pytest.raises(ValidationError) as error:
        make_contract(machines=[world.machine_a2, world.machine_a1], starts_on=days(100), ends_on=days(200))
    message = error.value.error_dict["equipment"][0].message
    assert "A-0001" in message and existing.number in message
    assert error.value.error_dict["equipment"][0].code == "overlap"
    assert Contract.objects.count() == 1


def test_adjacent_periods_and_terminated_contracts_do_not_overlap(world, make_contract):
    first = make_contract(starts_on=days(0), ends_on=days(99))
    make_contract(starts_on=days(100), ends_on=days(199))
    make_contract(starts_on=days(-100), ends_on=days(-1))
    services.terminate_contract(first, actor=world.admin, reason="Replaced")
    assert make_contract(starts_on=days(50), ends_on=days(60)).status == ContractStatus.DRAFT


# Update


def test_a_draft_can_change_its_terms_and_machines(world, make_contract):
    contract = make_contract()
    services.update_contract(
        contract,
        actor=world.admin,
        level="gold",
        included_visits=6,
        annual_fee=Decimal("1200.50"),
        equipment=[world.machine_a1, world.machine_a2],
    )
    contract.refresh_from_db()
    assert (contract.level, contract.included_visits, contract.annual_fee) == ("gold", 6, Decimal("1200.50"))
    assert set(contract.equipment.all()) == {world.machine_a1, world.machine_a2}
    assert events_of(contract, "updated").get().changes["level"] == ["Silver", "Gold"]
    assert "A-0002" in events_of(contract, "equipment_changed").get().changes["equipment"][1]


def test_an_update_that_would_overlap_changes_nothing(world, make_contract):
    other = make_contract(machines=[world.machine_a2])
    contract = make_contract()
    with pytest.raises(ValidationError) as error:
        services.update_contract(contract, actor=world.admin, level="gold", equipment=[world.machine_a2])
    assert other.number in error.value.error_dict["equipment"][0].message
    contract.refresh_from_db()
    assert contract.level == "silver"
    assert list(contract.equipment.all()) == [world.machine_a1]


def test_an_active_contract_only_changes_its_notes(world, make_contract):
    contract = make_contract(activate=True)
    services.update_contract(contract, actor=world.admin, notes="Call before visiting")
    with pytest.raises(DomainError) as error:
        services.update_contract(contract, actor=world.admin, ends_on=days(700))
    assert error.value.code == "not_editable"
    with pytest.raises(DomainError):
        services.update_contract(contract, actor=world.admin, equipment=[world.machine_a1, world.machine_a2])
    contract.refresh_from_db()
    assert contract.notes == "Call before visiting"
    assert contract.ends_on == days(364)
    assert contract.equipment.count() == 1


def test_the_customer_never_changes(world, make_contract):
    contract = make_contract()
    with pytest.raises(ValidationError) as error:
        services.update_contract(contract, actor=world.admin, customer=world.customer_z)
    assert "customer" in error.value.error_dict


# Moves


def test_activate_records_the_move(world, make_contract):
    contract = services.activate_contract(make_contract(), actor=world.admin)
    assert contract.status == ContractStatus.ACTIVE
    assert events_of(contract, "activated").get().changes == {"status": ["Draft", "Active"]}


def test_an_ended_period_cannot_be_activated(world, make_contract):
    contract = make_contract(starts_on=days(-400), ends_on=days(-35))
    with pytest.raises(ValidationError) as error:
        services.activate_contract(contract, actor=world.admin)
    assert error.value.error_dict["ends_on"][0].code == "period_over"
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT


def test_a_contract_without_machines_cannot_be_activated(world, make_contract):
    contract = make_contract(machines=[])
    with pytest.raises(ValidationError) as error:
        services.activate_contract(contract, actor=world.admin)
    assert "equipment" in error.value.error_dict
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.DRAFT


def test_activation_refuses_an_overlapping_active_contract(world, make_contract):
    # Two overlapping drafts can only come from outside the services (the admin, an import);
    # activation still keeps one active contract per machine and day.
    first = make_contract(activate=True)
    second = Contract.objects.create(
        number="SC-HAND-1",
        customer=world.customer_a,
        sla_policy=world.policies.gold,
        starts_on=days(5),
        ends_on=days(9),
    )
    second.equipment.set([world.machine_a1])
    with pytest.raises(ValidationError) as error:
        services.activate_contract(second, actor=world.admin)
    assert first.number in error.value.error_dict["equipment"][0].message
    assert Contract.objects.get(pk=second.pk).status == ContractStatus.DRAFT


@pytest.mark.parametrize("status", ["active", "terminated"])
def test_activating_twice_or_after_termination_is_an_illegal_move(world, make_contract, status):
    contract = make_contract(activate=True)
    if status == "terminated":
        services.terminate_contract(contract, actor=world.admin, reason="Customer left")
    with pytest.raises(DomainError) as error:
        services.activate_contract(contract, actor=world.admin)
    assert error.value.code == "illegal_transition"
    assert Contract.objects.get(pk=contract.pk).status == status


def test_terminate_needs_a_reason_and_keeps_it(world, make_contract):
    contract = make_contract(activate=True)
    with pytest.raises(ValidationError) as error:
        services.terminate_contract(contract, actor=world.admin, reason="  ")
    assert "reason" in error.value.error_dict
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.ACTIVE
    services.terminate_contract(contract, actor=world.admin, reason="Machine sold")
    contract.refresh_from_db()
    assert (contract.status, contract.terminated_reason) == (ContractStatus.TERMINATED, "Machine sold")
    assert events_of(contract, "terminated").get().note == "Machine sold"
    with pytest.raises(DomainError):
        services.terminate_contract(contract, actor=world.admin, reason="again")


# Extension


def test_extend_makes_a_draft_for_the_next_period_with_the_same_terms(world, make_contract):
    old = make_contract(
        activate=True,
        machines=[world.machine_a1, world.machine_a2],
        level="gold",
        included_visits=4,
        annual_fee=Decimal("9000"),
        labour_covered=False,
    )
    new = services.extend_contract(old, actor=world.admin, ends_on=days(729), annual_fee=Decimal("9500"))
    assert new.previous == old
    assert new.status == ContractStatus.DRAFT
    assert new.starts_on == days(365)
    assert (new.level, new.included_visits, new.labour_covered, new.sla_policy) == (
        "gold",
        4,
        False,
        world.policies.gold,
    )
    assert new.annual_fee == Decimal("9500")
    assert set(new.equipment.all()) == {world.machine_a1, world.machine_a2}
    assert new.number != old.number
    assert new.number in events_of(old, "extended").get().note
    assert old.number in events_of(new, "created").get().note
    services.activate_contract(new, actor=world.admin)  # does not overlap the old period
    assert services.contract_periods(old) == [old, new]
    assert services.contract_periods(new) == [old, new]


def test_a_chain_of_three_periods(world, make_contract):
    first = make_contract(activate=True, starts_on=days(-10), ends_on=days(20))
    second = services.extend_contract(first, actor=world.admin, ends_on=days(50))
    services.activate_contract(second, actor=world.admin)
    third = services.extend_contract(second, actor=world.admin, ends_on=days(80))
    assert [c.pk for c in services.contract_periods(second)] == [first.pk, second.pk, third.pk]
    assert third.starts_on == days(51)


def test_extending_twice_names_the_existing_extension(world, make_contract):
    old = make_contract(activate=True)
    new = services.extend_contract(old, actor=world.admin, ends_on=days(700))
    with pytest.raises(DomainError) as error:
        services.extend_contract(old, actor=world.admin, ends_on=days(800))
    assert error.value.code == "already_extended" and new.number in error.value.message
    assert Contract.objects.count() == 2


def test_extension_must_end_after_it_starts(world, make_contract):
    old = make_contract(activate=True)
    with pytest.raises(ValidationError) as error:
        services.extend_contract(old, actor=world.admin, ends_on=days(300))
    assert "ends_on" in error.value.error_dict
    assert Contract.objects.count() == 1


@pytest.mark.parametrize("status", ["draft", "terminated"])
def test_only_active_or_expired_contracts_are_extended(world, make_contract, status):
    contract = make_contract()
    if status == "terminated":
        services.terminate_contract(contract, actor=world.admin, reason="x")
    with pytest.raises(DomainError):
        services.extend_contract(contract, actor=world.admin, ends_on=days(800))
    assert Contract.objects.count() == 1


def test_an_expired_contract_can_be_extended_and_skips_invalidated_machines(world, make_contract):
    old = make_contract(
        activate=True, machines=[world.machine_a1, world.machine_a2], starts_on=days(-30), ends_on=days(0)
    )
    services.expire_contracts(today=days(1))
    old.refresh_from_db()
    assert old.status == ContractStatus.EXPIRED
    asset_services.invalidate_equipment(world.machine_a2, actor=world.admin, reason="Scrapped")
    new = services.extend_contract(old, actor=world.admin, ends_on=days(365))
    assert list(new.equipment.all()) == [world.machine_a1]


def test_an_extension_draft_cannot_move_back_into_the_old_period(world, make_contract):
    old = make_contract(activate=True)
    new = services.extend_contract(old, actor=world.admin, ends_on=days(700))
    with pytest.raises(ValidationError) as error:
        services.update_contract(new, actor=world.admin, starts_on=days(300))
    assert "starts_on" in error.value.error_dict


# Permissions


@pytest.mark.parametrize("who", ["agent", "dispatcher", "engineer", "customer_user_a", "provider_admin"])
def test_only_contract_managers_write_contracts(world, make_contract, who):
    actor = getattr(world, who)
    contract = make_contract()
    with pytest.raises(PermissionDenied):
        make_contract(actor=actor, machines=[world.machine_a2])
    for call in (
        lambda: services.activate_contract(contract, actor=actor),
        lambda: services.update_contract(contract, actor=actor, notes="x"),
        lambda: services.terminate_contract(contract, actor=actor, reason="x"),
        lambda: services.create_price_list(actor=actor, name="Mine"),
    ):
        with pytest.raises(PermissionDenied):
            call()
    contract.refresh_from_db()
    assert (contract.status, contract.notes, Contract.objects.count()) == ("draft", "", 1)
    assert not PriceList.objects.exists()


def test_the_director_manages_contracts(world, make_contract):
    contract = make_contract(actor=world.director, activate=True)
    assert contract.status == ContractStatus.ACTIVE


# Price lists


def test_one_default_price_list_at_a_time(world):
    first = services.create_price_list(actor=world.admin, name="2026 prices", is_default=True)
    second = services.create_price_list(actor=world.admin, name="2027 prices", is_default=True)
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    with pytest.raises(ValidationError) as error:
        services.update_price_list(second, actor=world.admin, is_default=False)
    assert "is_default" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        services.update_price_list(second, actor=world.admin, is_active=False)
    assert "is_active" in error.value.error_dict
    services.update_price_list(first, actor=world.admin, is_default=True)
    second.refresh_from_db()
    assert not second.is_default


def test_price_list_names_are_unique(world):
    services.create_price_list(actor=world.admin, name="Standard")
    with pytest.raises(ValidationError) as error:
        services.create_price_list(actor=world.admin, name="standard")
    assert "name" in error.value.error_dict
    assert PriceList.objects.count() == 1


def test_prices_are_one_per_kind_and_part(world):
    price_list = services.create_price_list(actor=world.admin, name="Standard", is_default=True)
    part = factories.part()
    services.set_price(price_list, actor=world.admin, kind=PriceItemKind.LABOUR_HOUR, unit_price="280")
    services.set_price(price_list, actor=world.admin, kind=PriceItemKind.LABOUR_HOUR, unit_price="300")
    services.set_price(price_list, actor=world.admin, kind=PriceItemKind.PART, part=part, unit_price="12.50")
    services.set_price(price_list, actor=world.admin, kind=PriceItemKind.PART, part=part, unit_price="13.00")
    assert price_list.items.count() == 2
    assert services.price_for(None, kind=PriceItemKind.LABOUR_HOUR) == Decimal("300")
    assert services.price_for(price_list, kind=PriceItemKind.PART, part=part) == Decimal("13.00")
    assert services.price_for(price_list, kind=PriceItemKind.CALL_OUT) is None
    changes = Event.objects.filter(action="price_set").values_list("changes", flat=True)
    assert {"Labour per hour": ["280.00", "300"]} in list(changes)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": PriceItemKind.PART, "unit_price": "5"}, "part"),
        ({"kind": "discount", "unit_price": "5"}, "kind"),
        ({"kind": PriceItemKind.CALL_OUT, "unit_price": "-1"}, "unit_price"),
        ({"kind": PriceItemKind.CALL_OUT, "unit_price": ""}, "unit_price"),
    ],
)
def test_bad_prices_are_field_errors(world, kwargs, field):
    price_list = services.create_price_list(actor=world.admin, name="Standard")
    with pytest.raises(ValidationError) as error:
        services.set_price(price_list, actor=world.admin, **kwargs)
    assert field in error.value.error_dict
    assert not PriceListItem.objects.exists()


def test_a_labour_price_names_no_part(world):
    price_list = services.create_price_list(actor=world.admin, name="Standard")
    with pytest.raises(ValidationError) as error:
        services.set_price(
            price_list, actor=world.admin, kind=PriceItemKind.LABOUR_HOUR, part=factories.part(), unit_price="1"
        )
    assert "part" in error.value.error_dict


def test_remove_a_price(world):
    price_list = services.create_price_list(actor=world.admin, name="Standard")
    item = services.set_price(price_list, actor=world.admin, kind=PriceItemKind.CALL_OUT, unit_price="300")
    services.remove_price(item, actor=world.admin)
    assert not price_list.items.exists()
    assert Event.objects.filter(action="price_removed").exists()


def test_the_shared_builder_makes_an_active_contract(db):
    contract = factories.contract(activate=True, included_visits=2)
    assert contract.status == ContractStatus.ACTIVE
    assert contract.equipment.get().customer == contract.customer
    assert contract.included_visits == 2
