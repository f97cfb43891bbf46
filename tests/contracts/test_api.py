"""The contracts API: scoped reads, idempotent create, verbs, and the entitlement of a machine."""

import json

import pytest

from fieldservice.contracts import services
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract
from tests.contracts.conftest import days

BASE = "/api/v1"


def post(client, url, data=None, **headers):
    return client.post(url, json.dumps(data or {}), content_type="application/json", headers=headers)


def patch(client, url, data):
    return client.patch(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def contracts(world, make_contract):
    world.active_a = make_contract(activate=True, level="gold", included_visits=3)
    world.draft_a = make_contract(machines=[world.machine_a2], starts_on=days(400), ends_on=days(500))
    world.active_z = make_contract(world.customer_z, activate=True)
    return world


def payload(world, **overrides):
    data = {
        "customer": world.customer_a.pk,
        "starts_on": days(0).isoformat(),
        "ends_on": days(364).isoformat(),
        "equipment": [world.machine_a1.pk],
        "level": "gold",
        "sla_policy": world.policies.gold.pk,
        "included_visits": 4,
        "annual_fee": "18000.00",
    }
    data.update(overrides)
    return data


def ids(response) -> list[int]:
    return sorted(item["id"] for item in response.json()["items"])


# Reads


def test_staff_list_every_contract_customers_their_offered_ones(api_client_for, contracts):
    everyone = api_client_for(contracts.agent).get(f"{BASE}/contracts")
    assert ids(everyone) == sorted([contracts.active_a.pk, contracts.draft_a.pk, contracts.active_z.pk])
    mine = api_client_for(contracts.customer_user_a).get(f"{BASE}/contracts")
    assert ids(mine) == [contracts.active_a.pk]
    item = mine.json()["items"][0]
    assert item["number"] == contracts.active_a.number
    assert item["equipment"] == [contracts.machine_a1.pk]
    assert (item["status"], item["visits_used"], item["included_visits"]) == ("active", 0, 3)


def test_list_filters(api_client_for, contracts):
    client = api_client_for(contracts.agent)
    assert ids(client.get(f"{BASE}/contracts", {"status": "draft"})) == [contracts.draft_a.pk]
    assert ids(client.get(f"{BASE}/contracts", {"q": "Z-0001"})) == [contracts.active_z.pk]
    assert ids(client.get(f"{BASE}/contracts", {"customer": contracts.customer_z.pk})) == [contracts.active_z.pk]
    assert ids(client.get(f"{BASE}/contracts", {"expiring_within": 30})) == []


@pytest.mark.parametrize("who", ["provider_admin", "engineer"])
def test_roles_without_the_capability_get_403(api_client_for, contracts, who):
    client = api_client_for(getattr(contracts, who))
    assert client.get(f"{BASE}/contracts").status_code == 403
    assert client.get(f"{BASE}/contracts/{contracts.active_a.pk}").status_code == 404


@pytest.mark.parametrize(
    "who, target", [("customer_user_a", "active_z"), ("customer_user_a", "draft_a"), ("customer_user_z", "active_a")]
)
def test_get_across_tenants_is_404(api_client_for, contracts, who, target):
    response = api_client_for(getattr(contracts, who)).get(f"{BASE}/contracts/{getattr(contracts, target).pk}")
    assert response.status_code == 404


# Create


def test_create_is_idempotent(api_client_for, world):
    client = api_client_for(world.director)
    first = post(client, f"{BASE}/contracts", payload(world), **{"Idempotency-Key": "k-1"})
    again = post(client, f"{BASE}/contracts", payload(world), **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["status"] == "draft" and first.json()["annual_fee"] == "18000.00"
    assert Contract.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"ends_on": days(-1).isoformat()}, "ends_on"),
        ({"level": "platinum"}, "level"),
        ({"annual_fee": "-1"}, "annual_fee"),
        ({"sla_policy": 999999}, "sla_policy"),
        ({"price_list": 999999}, "price_list"),
        ({"customer": 999999}, "customer"),
        ({"equipment": [999999]}, "equipment"),
    ],
)
def test_bad_input_is_422_on_the_field_and_nothing_is_written(api_client_for, world, overrides, field):
    response = post(api_client_for(world.director), f"{BASE}/contracts", payload(world, **overrides))
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", field]]
    assert not Contract.objects.exists()


def test_a_machine_of_another_customer_is_named(api_client_for, world):
    response = post(api_client_for(world.director), f"{BASE}/contracts", payload(world, equipment=[world.machine_z.pk]))
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", "equipment"] and "Z-0001" in detail["msg"]
    assert not Contract.objects.exists()


def test_an_overlap_is_422_naming_the_contract(api_client_for, contracts):
    response = post(api_client_for(contracts.director), f"{BASE}/contracts", payload(contracts))
    assert response.status_code == 422
    assert contracts.active_a.number in response.json()["detail"][0]["msg"]
    assert Contract.objects.count() == 3


@pytest.mark.parametrize("who", ["agent", "customer_user_a", "provider_admin"])
def test_only_managers_create(api_client_for, world, who):
    response = post(api_client_for(getattr(world, who)), f"{BASE}/contracts", payload(world))
    assert response.status_code == 403
    assert not Contract.objects.exists()


def test_status_cannot_be_sent(api_client_for, world):
    """Status changes go through the verbs: sending it is a 422 naming it, not silently ignored."""
    response = post(api_client_for(world.director), f"{BASE}/contracts", payload(world, status="active"))
    assert response.status_code == 422
    assert [item["loc"][-1] for item in response.json()["detail"]] == ["status"]
    assert not Contract.objects.exists()


# Verbs and changes


def test_activate_terminate_and_extend(api_client_for, contracts):
    client = api_client_for(contracts.director)
    activated = post(client, f"{BASE}/contracts/{contracts.draft_a.pk}/activate")
    assert activated.status_code == 200 and activated.json()["status"] == "active"
    again = post(client, f"{BASE}/contracts/{contracts.draft_a.pk}/activate")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    extended = post(client, f"{BASE}/contracts/{contracts.active_a.pk}/extend", {"ends_on": days(729).isoformat()})
    assert extended.status_code == 201
    assert extended.json()["previous"] == contracts.active_a.pk
    assert extended.json()["starts_on"] == days(365).isoformat()
    no_reason = post(client, f"{BASE}/contracts/{contracts.active_z.pk}/terminate", {"reason": ""})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    terminated = post(client, f"{BASE}/contracts/{contracts.active_z.pk}/terminate", {"reason": "Sold the plant"})
    assert terminated.json()["status"] == "terminated"
    assert terminated.json()["terminated_reason"] == "Sold the plant"


def test_patch_a_draft_and_only_the_notes_of_an_active_contract(api_client_for, contracts):
    client = api_client_for(contracts.director)
    changed = patch(client, f"{BASE}/contracts/{contracts.draft_a.pk}", {"level": "basic", "included_visits": None})
    assert changed.status_code == 200 and changed.json()["level"] == "basic"
    refused = patch(client, f"{BASE}/contracts/{contracts.active_a.pk}", {"ends_on": days(900).isoformat()})
    assert refused.status_code == 409 and refused.json()["code"] == "not_editable"
    notes = patch(client, f"{BASE}/contracts/{contracts.active_a.pk}", {"notes": "Gate code 4711"})
    assert notes.json()["notes"] == "Gate code 4711"
    contracts.active_a.refresh_from_db()
    assert contracts.active_a.ends_on == days(364)


def test_an_ended_period_cannot_be_activated(api_client_for, contracts):
    Contract.objects.filter(pk=contracts.draft_a.pk).update(starts_on=days(-90), ends_on=days(-30))
    response = post(api_client_for(contracts.director), f"{BASE}/contracts/{contracts.draft_a.pk}/activate")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "ends_on"]
    assert Contract.objects.get(pk=contracts.draft_a.pk).status == ContractStatus.DRAFT


def test_verbs_across_tenants_are_404_and_change_nothing(api_client_for, contracts):
    client = api_client_for(contracts.customer_user_z)
    for url, data in [
        (f"{BASE}/contracts/{contracts.draft_a.pk}/activate", None),
        (f"{BASE}/contracts/{contracts.active_a.pk}/terminate", {"reason": "x"}),
        (f"{BASE}/contracts/{contracts.active_a.pk}/extend", {"ends_on": days(800).isoformat()}),
    ]:
        assert post(client, url, data).status_code == 404
    assert patch(client, f"{BASE}/contracts/{contracts.active_a.pk}", {"notes": "x"}).status_code == 404
    contracts.active_a.refresh_from_db()
    contracts.draft_a.refresh_from_db()
    assert (contracts.active_a.status, contracts.active_a.notes, contracts.draft_a.status) == ("active", "", "draft")
    assert Contract.objects.count() == 3


def test_a_customer_may_read_but_not_act_on_its_own_contract(api_client_for, contracts):
    client = api_client_for(contracts.customer_user_a)
    response = post(client, f"{BASE}/contracts/{contracts.active_a.pk}/terminate", {"reason": "We stop"})
    assert response.status_code == 403
    assert Contract.objects.get(pk=contracts.active_a.pk).status == ContractStatus.ACTIVE


# Entitlement of a machine


def test_entitlement_of_a_machine(api_client_for, contracts):
    response = api_client_for(contracts.agent).get(f"{BASE}/equipment/{contracts.machine_a1.pk}/entitlement")
    body = response.json()
    assert response.status_code == 200
    assert body["entitlement"] == "contract"
    assert body["contract"] == contracts.active_a.pk and body["contract_number"] == contracts.active_a.number
    assert body["sla_policy"] == contracts.policies.gold.pk
    later = api_client_for(contracts.agent).get(
        f"{BASE}/equipment/{contracts.machine_a1.pk}/entitlement", {"on": days(400).isoformat()}
    )
    assert later.json()["entitlement"] == "chargeable"


def test_entitlement_is_scoped_by_the_machine(api_client_for, contracts):
    assert (
        api_client_for(contracts.customer_user_z)
        .get(f"{BASE}/equipment/{contracts.machine_a1.pk}/entitlement")
        .status_code
        == 404
    )
    provider = api_client_for(contracts.provider_admin).get(f"{BASE}/equipment/{contracts.machine_a1.pk}/entitlement")
    assert provider.status_code == 200
    assert provider.json()["entitlement"] == "contract"
    assert provider.json()["contract"] is None  # providers do not see contracts


def test_extend_twice_is_409(api_client_for, contracts):
    services.extend_contract(contracts.active_a, actor=contracts.admin, ends_on=days(729))
    response = post(
        api_client_for(contracts.director),
        f"{BASE}/contracts/{contracts.active_a.pk}/extend",
        {"ends_on": days(800).isoformat()},
    )
    assert response.status_code == 409 and response.json()["code"] == "already_extended"
    assert Contract.objects.filter(previous=contracts.active_a).count() == 1
