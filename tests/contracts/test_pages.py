"""Contract and price list pages: who sees what, the verbs, and errors on the form."""

import re
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.assets import services as asset_services
from fieldservice.contracts import services
from fieldservice.contracts.choices import ContractStatus, PriceItemKind
from fieldservice.contracts.models import Contract, PriceList, PriceListItem
from tests import factories
from tests.contracts.conftest import days

LIST = "/contracts/"


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/contracts/(\d+)/"', response.content.decode())]


@pytest.fixture
def contracts(world, make_contract):
    world.active_a = make_contract(activate=True, level="gold", included_visits=3)
    world.draft_a = make_contract(machines=[world.machine_a2], starts_on=days(400), ends_on=days(500))
    world.active_z = make_contract(world.customer_z, activate=True)
    return world


def status(contract) -> str:
    return Contract.objects.get(pk=contract.pk).status


# List


def test_anonymous_users_are_sent_to_sign_in(client, contracts):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_see_every_contract_and_managers_the_new_button(client_for, contracts):
    response = client_for(contracts.agent).get(LIST)
    assert sorted(listed(response)) == sorted([contracts.active_a.pk, contracts.draft_a.pk, contracts.active_z.pk])
    assert reverse("contracts:create") not in response.content.decode()
    assert reverse("contracts:create") in client_for(contracts.director).get(LIST).content.decode()


@pytest.mark.parametrize("who, visible", [("customer_user_a", "active_a"), ("customer_user_z", "active_z")])
def test_customers_see_only_their_own_offered_contracts(client_for, contracts, who, visible):
    response = client_for(getattr(contracts, who)).get(LIST)
    assert response.status_code == 200
    assert listed(response) == [getattr(contracts, visible).pk]
    assert reverse("contracts:create") not in response.content.decode()


@pytest.mark.parametrize("who", ["provider_admin", "provider_engineer", "engineer", "parts_keeper"])
def test_providers_and_roles_without_the_capability_get_403(client_for, contracts, who):
    client = client_for(getattr(contracts, who))
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("contracts:detail", args=[contracts.active_a.pk])).status_code == 403
    assert client.get(reverse("contracts:expiring")).status_code == 403


def test_search_and_filters(client_for, contracts):
    client = client_for(contracts.agent)
    assert listed(client.get(LIST, {"q": "Z-0001"})) == [contracts.active_z.pk]
    assert listed(client.get(LIST, {"q": contracts.draft_a.number})) == [contracts.draft_a.pk]
    assert listed(client.get(LIST, {"status": "draft"})) == [contracts.draft_a.pk]
    assert listed(client.get(LIST, {"level": "gold"})) == [contracts.active_a.pk]
    assert listed(client.get(LIST, {"expiring": "30"})) == []
    services.update_contract(contracts.active_z, actor=contracts.admin, notes="x")
    ending = Contract.objects.filter(pk=contracts.active_z.pk)
    ending.update(ends_on=days(20))
    assert listed(client.get(LIST, {"expiring": "30"})) == [contracts.active_z.pk]
    empty = client.get(LIST, {"q": "nothing like this"})
    assert "No contracts match your search." in empty.content.decode()


def test_a_tampered_filter_is_ignored(client_for, contracts):
    response = client_for(contracts.agent).get(LIST, {"status": "bogus", "expiring": "9999"})
    assert response.status_code == 200
    assert len(listed(response)) == 3


def test_export_has_the_same_rows(client_for, contracts):
    response = client_for(contracts.customer_user_a).get(LIST, {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][0] == "Contract number"
    assert [row[0] for row in rows[1:]] == [contracts.active_a.number]


def test_empty_list(client_for, world):
    assert "No service contracts yet." in client_for(world.agent).get(LIST).content.decode()


# Detail


def test_detail_shows_terms_machines_visits_and_orders(client_for, contracts):
    from fieldservice.workorders.services import intake

    request = intake.file_request(
        actor=contracts.agent,
        channel="phone",
        customer=contracts.customer_a,
        equipment=contracts.machine_a1,
        description="Alarm",
    )
    order = intake.create_work_order(request, actor=contracts.agent)
    response = client_for(contracts.director).get(reverse("contracts:detail", args=[contracts.active_a.pk]))
    page = response.content.decode()
    assert contracts.active_a.number in page and "A-0001" in page
    assert order.number in page
    assert "2 visits left" in page
    assert reverse("contracts:terminate", args=[contracts.active_a.pk]) in page
    assert reverse("contracts:extend", args=[contracts.active_a.pk]) in page
    assert 'id="event-log"' in page


def test_customers_read_their_contract_without_buttons_or_internal_history(client_for, contracts):
    response = client_for(contracts.customer_user_a).get(reverse("contracts:detail", args=[contracts.active_a.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("contracts:terminate", args=[contracts.active_a.pk]) not in page
    assert reverse("contracts:edit", args=[contracts.active_a.pk]) not in page
    assert 'id="event-log"' not in page


@pytest.mark.parametrize(
    "who, target", [("customer_user_a", "active_z"), ("customer_user_a", "draft_a"), ("customer_user_z", "active_a")]
)
def test_other_customers_contracts_and_drafts_are_404(client_for, contracts, who, target):
    response = client_for(getattr(contracts, who)).get(
        reverse("contracts:detail", args=[getattr(contracts, target).pk])
    )
    assert response.status_code == 404


def test_the_chain_of_periods_is_shown(client_for, contracts):
    new = services.extend_contract(contracts.active_a, actor=contracts.admin, ends_on=days(729))
    page = client_for(contracts.agent).get(reverse("contracts:detail", args=[new.pk])).content.decode()
    assert 'id="periods"' in page
    assert contracts.active_a.number in page and new.number in page
    # The customer does not see the draft of the next period.
    page = client_for(contracts.customer_user_a).get(reverse("contracts:detail", args=[contracts.active_a.pk]))
    assert new.number not in page.content.decode()


# Create and edit


def test_agents_may_not_open_the_create_page(client_for, contracts):
    client = client_for(contracts.agent)
    before = Contract.objects.count()
    assert client.get(reverse("contracts:create")).status_code == 403
    response = client.post(reverse("contracts:create"), {"customer": contracts.customer_a.pk})
    assert response.status_code == 403
    assert Contract.objects.count() == before


def test_create_starts_by_choosing_the_customer_then_lists_only_their_machines(client_for, world):
    client = client_for(world.director)
    first = client.get(reverse("contracts:create"))
    assert 'name="customer"' in first.content.decode() and "Customer Z" in first.content.decode()
    form = client.get(reverse("contracts:create"), {"customer": world.customer_a.pk}).content.decode()
    assert "A-0001" in form and "A-0002" in form
    assert "Z-0001" not in form


def form_data(world, **overrides):
    data = {
        "customer": world.customer_a.pk,
        "equipment": [world.machine_a1.pk],
        "level": "gold",
        "sla_policy": world.policies.gold.pk,
        "starts_on": days(0).isoformat(),
        "ends_on": days(364).isoformat(),
        "included_visits": "4",
        "parts_coverage": "all",
        "labour_covered": "on",
        "annual_fee": "18000.00",
        "currency": "CNY",
        "notes": "Signed by Mr Li",
    }
    data.update(overrides)
    return data


def test_create_a_contract(client_for, world):
    response = client_for(world.director).post(reverse("contracts:create"), form_data(world))
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[contract.pk])
    assert (contract.customer, contract.level, contract.included_visits, contract.status) == (
        world.customer_a,
        "gold",
        4,
        "draft",
    )
    assert list(contract.equipment.all()) == [world.machine_a1]


def test_a_contract_ending_before_it_starts_is_an_error_on_the_end(client_for, world):
    response = client_for(world.director).post(
        reverse("contracts:create"), form_data(world, ends_on=days(-1).isoformat())
    )
    assert response.status_code == 200
    assert "The contract cannot end before it starts." in response.content.decode()
    assert 'id="id_ends_on_error"' in response.content.decode()
    assert not Contract.objects.exists()


def test_an_overlap_is_shown_on_the_machines(client_for, world, make_contract):
    existing = make_contract()
    response = client_for(world.director).post(reverse("contracts:create"), form_data(world))
    page = response.content.decode()
    assert response.status_code == 200
    assert existing.number in page and "A-0001" in page
    assert Contract.objects.count() == 1


def test_another_customers_machine_cannot_be_posted(client_for, world):
    response = client_for(world.director).post(
        reverse("contracts:create"), form_data(world, equipment=[world.machine_z.pk])
    )
    assert response.status_code == 200
    assert not Contract.objects.exists()


def test_edit_a_draft(client_for, contracts):
    url = reverse("contracts:edit", args=[contracts.draft_a.pk])
    client = client_for(contracts.director)
    assert "A-0002" in client.get(url).content.decode()
    data = form_data(
        contracts,
        equipment=[contracts.machine_a2.pk],
        starts_on=days(400).isoformat(),
        ends_on=days(600).isoformat(),
        level="basic",
    )
    del data["customer"]
    response = client.post(url, data)
    assert response.status_code == 302
    contracts.draft_a.refresh_from_db()
    assert (contracts.draft_a.level, contracts.draft_a.ends_on) == ("basic", days(600))


def test_an_active_contract_only_offers_its_notes(client_for, contracts):
    url = reverse("contracts:edit", args=[contracts.active_a.pk])
    client = client_for(contracts.director)
    page = client.get(url).content.decode()
    assert 'name="notes"' in page and 'name="ends_on"' not in page
    client.post(url, {"notes": "Key under the mat", "ends_on": days(900).isoformat()})
    contracts.active_a.refresh_from_db()
    assert contracts.active_a.notes == "Key under the mat"
    assert contracts.active_a.ends_on == days(364)


# Verbs


def test_activate_is_a_post(client_for, contracts):
    client = client_for(contracts.director)
    url = reverse("contracts:activate", args=[contracts.draft_a.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert status(contracts.draft_a) == ContractStatus.ACTIVE


def test_an_activation_error_is_shown_and_changes_nothing(client_for, contracts):
    Contract.objects.filter(pk=contracts.draft_a.pk).update(starts_on=days(-90), ends_on=days(-30))
    response = client_for(contracts.director).post(
        reverse("contracts:activate", args=[contracts.draft_a.pk]), follow=True
    )
    assert "it cannot be activated" in response.content.decode()
    assert status(contracts.draft_a) == ContractStatus.DRAFT


@pytest.mark.parametrize("who, code", [("agent", 403), ("dispatcher", 403), ("customer_user_a", 403)])
def test_verbs_need_the_manager(client_for, contracts, who, code):
    client = client_for(getattr(contracts, who))
    pk = contracts.active_a.pk
    assert client.post(reverse("contracts:terminate", args=[pk]), {"reason": "x"}).status_code == code
    assert client.get(reverse("contracts:extend", args=[pk])).status_code == code
    assert client.post(reverse("contracts:extend", args=[pk]), {"ends_on": days(800).isoformat()}).status_code == code
    assert client.get(reverse("contracts:edit", args=[pk])).status_code == code
    assert status(contracts.active_a) == ContractStatus.ACTIVE
    assert Contract.objects.count() == 3


def test_customers_cannot_touch_other_customers_contracts(client_for, contracts):
    client = client_for(contracts.customer_user_z)
    for name in ("activate", "terminate", "extend", "edit"):
        assert (
            client.post(reverse(f"contracts:{name}", args=[contracts.draft_a.pk]), {"reason": "x"}).status_code == 404
        )
        assert (
            client.post(reverse(f"contracts:{name}", args=[contracts.active_a.pk]), {"reason": "x"}).status_code == 404
        )
    assert (status(contracts.draft_a), status(contracts.active_a)) == ("draft", "active")
    assert Contract.objects.count() == 3


def test_terminate_needs_a_reason(client_for, contracts):
    client = client_for(contracts.director)
    url = reverse("contracts:terminate", args=[contracts.active_a.pk])
    response = client.post(url, {"reason": ""}, follow=True)
    assert "Give a reason." in response.content.decode()
    assert status(contracts.active_a) == ContractStatus.ACTIVE
    client.post(url, {"reason": "Customer closed the plant"})
    contracts.active_a.refresh_from_db()
    assert contracts.active_a.status == ContractStatus.TERMINATED
    assert contracts.active_a.terminated_reason == "Customer closed the plant"


def test_extend_through_the_page(client_for, contracts):
    client = client_for(contracts.director)
    url = reverse("contracts:extend", args=[contracts.active_a.pk])
    page = client.get(url).content.decode()
    assert days(365).isoformat() in page  # the next period starts the day after
    response = client.post(
        url,
        {
            "ends_on": days(729).isoformat(),
            "level": "silver",
            "sla_policy": contracts.policies.gold.pk,
            "annual_fee": "1",
        },
    )
    new = Contract.objects.get(previous=contracts.active_a)
    assert response["Location"] == reverse("contracts:detail", args=[new.pk])
    assert (new.starts_on, new.level, new.status) == (days(365), "silver", "draft")
    again = client.post(
        url, {"ends_on": days(800).isoformat(), "level": "silver", "sla_policy": contracts.policies.gold.pk}
    )
    assert again.status_code == 302
    assert Contract.objects.filter(previous=contracts.active_a).count() == 1


def test_extend_with_an_end_too_early_is_a_field_error(client_for, contracts):
    response = client_for(contracts.director).post(
        reverse("contracts:extend", args=[contracts.active_a.pk]),
        {"ends_on": days(10).isoformat(), "level": "gold", "sla_policy": contracts.policies.gold.pk},
    )
    assert response.status_code == 200
    assert 'id="id_ends_on_error"' in response.content.decode()
    assert not Contract.objects.filter(previous=contracts.active_a).exists()


# Ending soon


def test_the_expiring_page_lists_contracts_and_warranties_in_scope(client_for, contracts):
    Contract.objects.filter(pk__in=[contracts.active_a.pk, contracts.active_z.pk]).update(ends_on=days(20))
    asset_services.update_equipment(contracts.machine_a2, actor=contracts.admin, warranty_ends_on=days(15))
    asset_services.update_equipment(contracts.machine_z, actor=contracts.admin, warranty_ends_on=days(15))
    url = reverse("contracts:expiring")
    page = client_for(contracts.director).get(url).content.decode()
    assert contracts.active_a.number in page and contracts.active_z.number in page
    assert "A-0002" in page and "Z-0001" in page
    mine = client_for(contracts.customer_user_a).get(url).content.decode()
    assert contracts.active_a.number in mine and "A-0002" in mine
    assert contracts.active_z.number not in mine and "Z-0001" not in mine
    narrow = client_for(contracts.director).get(url, {"days": "10"}).content.decode()
    assert contracts.active_a.number not in narrow and "No warranty ends in the next 10 days." in narrow


# Price lists


def test_price_lists_are_for_our_staff(client_for, world):
    price_list = services.create_price_list(actor=world.admin, name="Standard", is_default=True)
    assert client_for(world.agent).get(reverse("contracts:price_lists")).status_code == 200
    for who in ("customer_user_a", "provider_admin", "engineer"):
        client = client_for(getattr(world, who))
        assert client.get(reverse("contracts:price_lists")).status_code == 403
        assert client.get(reverse("contracts:price_list_detail", args=[price_list.pk])).status_code == 403


def test_agents_read_but_do_not_change_prices(client_for, world):
    price_list = services.create_price_list(actor=world.admin, name="Standard")
    client = client_for(world.agent)
    page = client.get(reverse("contracts:price_list_detail", args=[price_list.pk])).content.decode()
    assert reverse("contracts:price_list_edit", args=[price_list.pk]) not in page
    assert client.get(reverse("contracts:price_list_create")).status_code == 403
    response = client.post(
        reverse("contracts:price_item_create", args=[price_list.pk]), {"kind": "call_out", "unit_price": "1"}
    )
    assert response.status_code == 403
    assert not PriceListItem.objects.exists()


def test_manage_a_price_list(client_for, world):
    client = client_for(world.director)
    response = client.post(
        reverse("contracts:price_list_create"), {"name": "2027", "currency": "CNY", "is_default": "on"}
    )
    price_list = PriceList.objects.get()
    assert response["Location"] == reverse("contracts:price_list_detail", args=[price_list.pk])
    assert price_list.is_default
    part = factories.part(part_number="P-HEATER")
    add = reverse("contracts:price_item_create", args=[price_list.pk])
    client.post(add, {"kind": "labour_hour", "unit_price": "280"})
    client.post(add, {"kind": "part", "part": part.pk, "unit_price": "99.50"})
    bad = client.post(add, {"kind": "part", "unit_price": "5"})
    assert bad.status_code == 200 and 'id="id_part_error"' in bad.content.decode()
    assert price_list.items.count() == 2
    item = price_list.items.get(kind=PriceItemKind.PART)
    client.post(reverse("contracts:price_item_edit", args=[item.pk]), {"unit_price": "101"})
    item.refresh_from_db()
    assert str(item.unit_price) == "101.00"
    page = client.get(reverse("contracts:price_list_detail", args=[price_list.pk])).content.decode()
    assert "P-HEATER" in page and "101.00" in page
    client.post(reverse("contracts:price_item_delete", args=[item.pk]))
    assert price_list.items.count() == 1
    client.post(
        reverse("contracts:price_list_edit", args=[price_list.pk]),
        {"name": "2027 prices", "currency": "CNY", "is_default": "on", "is_active": "on"},
    )
    price_list.refresh_from_db()
    assert price_list.name == "2027 prices"


def test_a_duplicate_price_list_name_is_a_field_error(client_for, world):
    services.create_price_list(actor=world.admin, name="Standard")
    response = client_for(world.director).post(
        reverse("contracts:price_list_create"), {"name": "Standard", "currency": "CNY"}
    )
    assert response.status_code == 200 and 'id="id_name_error"' in response.content.decode()
    assert PriceList.objects.count() == 1
