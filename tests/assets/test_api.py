from decimal import Decimal

import pytest

from fieldservice.assets import services
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import BomLine, Equipment, ProductModel
from tests import factories

API = "/api/v1"


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", headers=headers)


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def put(client, url, data):
    return client.put(url, data, content_type="application/json")


def error_fields(response) -> set:
    """The fields a 422 names: ["body", field] from the services, ["body", "payload", field] from the schema."""
    return {item["loc"][-1] if item["loc"][1] == "payload" else item["loc"][1] for item in response.json()["detail"]}


def snapshot(machine) -> tuple:
    machine = Equipment.objects.get(pk=machine.pk)
    return (machine.serial_number, machine.status, machine.customer_id, machine.site_id, machine.lot_number)


def new_machine(world, **overrides):
    data = {
        "product_model": world.model.pk,
        "serial_number": "API-1",
        "customer": world.customer_a.pk,
        "site": world.site_a.pk,
        "installed_on": "2025-01-31",
    }
    data.update(overrides)
    return data


# Equipment: reading


def test_anonymous_calls_are_refused(client, world):
    assert client.get(f"{API}/equipment").status_code == 401


@pytest.mark.parametrize(
    "who, expected",
    [
        ("agent", {"A-0001", "Z-0001"}),
        ("customer_user_a", {"A-0001"}),
        ("provider_admin", {"A-0001"}),
        ("provider_engineer", {"A-0001"}),
        ("other_provider_admin", set()),
        ("customer_user_z", {"Z-0001"}),
    ],
)
def test_equipment_list_is_scoped(api_client_for, world, who, expected):
    response = api_client_for(getattr(world, who)).get(f"{API}/equipment")
    assert response.status_code == 200
    assert {item["serial_number"] for item in response.json()["items"]} == expected
    assert response.json()["count"] == len(expected)


def test_equipment_list_filters(api_client_for, world):
    client = api_client_for(world.agent)
    other = factories.equipment(world.customer_z, product_model=factories.product_model(), serial_number="Q-1")
    services.invalidate_equipment(world.machine_z, actor=world.agent, reason="x")

    def serials(**params):
        return {item["serial_number"] for item in client.get(f"{API}/equipment", params).json()["items"]}

    assert serials(customer=world.customer_a.pk) == {"A-0001"}
    assert serials(product_model=other.product_model_id) == {"Q-1"}
    assert serials(status="invalidated") == {"Z-0001"}
    assert serials(lot_number="lot-7") == {"A-0001"}
    assert serials(q="Q-") == {"Q-1"}


def test_equipment_detail_and_fitted_parts(api_client_for, world):
    client = api_client_for(world.customer_user_a)
    body = client.get(f"{API}/equipment/{world.machine_a.pk}").json()
    assert body["serial_number"] == "A-0001"
    assert body["product_model_code"] == "IM-200"
    assert body["status"] == "registered"
    assert body["public_url"].endswith(f"/e/{world.machine_a.public_token}/")
    parts = client.get(f"{API}/equipment/{world.machine_a.pk}/fitted-parts").json()
    assert {(p["part_number"], p["quantity"]) for p in parts} == {("MOTOR-1", "1.000"), ("BELT-1", "2.500")}


def test_by_serial_lists_every_visible_model_with_that_serial(api_client_for, world):
    factories.equipment(world.customer_a, product_model=factories.product_model(), serial_number="a-0001")
    factories.equipment(world.customer_z, product_model=factories.product_model(), serial_number="A-0001")
    found = api_client_for(world.provider_admin).get(f"{API}/equipment/by-serial/A-0001").json()
    assert len(found) == 2
    assert {item["customer"] for item in found} == {world.customer_a.pk}


@pytest.mark.parametrize("who", ["customer_user_a", "provider_admin", "other_provider_admin"])
def test_machines_of_other_tenants_are_404_and_untouched(api_client_for, world, who):
    client = api_client_for(getattr(world, who))
    hidden = world.machine_a if who == "other_provider_admin" else world.machine_z
    state = snapshot(hidden)
    base = f"{API}/equipment/{hidden.pk}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/fitted-parts").status_code == 404
    assert patch(client, base, {"serial_number": "HACK"}).status_code == 404
    assert post(client, f"{base}/invalidate", {"reason": "hack"}).status_code == 404
    assert post(client, f"{base}/reinstate", {}).status_code == 404
    assert snapshot(hidden) == state


def test_by_serial_finds_nothing_outside_the_scope(api_client_for, world):
    response = api_client_for(world.other_provider_admin).get(f"{API}/equipment/by-serial/A-0001")
    assert response.status_code == 200
    assert response.json() == []


# Equipment: writing


def test_agent_registers_equipment_idempotently(api_client_for, world):
    client = api_client_for(world.agent)
    first = post(client, f"{API}/equipment", new_machine(world), **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    body = first.json()
    assert (body["serial_number"], body["customer"], body["site"]) == ("API-1", world.customer_a.pk, world.site_a.pk)
    assert body["warranty_ends_on"] == "2026-01-31"
    again = post(client, f"{API}/equipment", new_machine(world), **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.json()["id"] == body["id"]
    assert Equipment.objects.filter(serial_number="API-1").count() == 1


@pytest.mark.parametrize("field", ["product_model", "customer", "site", "parent"])
def test_unknown_ids_are_422_on_their_field(api_client_for, world, field):
    before = Equipment.objects.count()
    response = post(api_client_for(world.agent), f"{API}/equipment", new_machine(world, **{field: 999999}))
    assert response.status_code == 422
    assert error_fields(response) == {field}
    assert Equipment.objects.count() == before


def test_duplicate_serial_is_422_on_serial_number(api_client_for, world):
    response = post(api_client_for(world.agent), f"{API}/equipment", new_machine(world, serial_number="A-0001"))
    assert response.status_code == 422
    assert error_fields(response) == {"serial_number"}
    assert response.json()["detail"][0]["type"] == "duplicate"


def test_site_of_another_customer_is_422_on_site(api_client_for, world):
    response = post(api_client_for(world.agent), f"{API}/equipment", new_machine(world, site=world.site_z.pk))
    assert response.status_code == 422
    assert error_fields(response) == {"site"}


@pytest.mark.parametrize("who", ["engineer", "dispatcher", "parts_keeper", "provider_admin", "customer_user_a"])
def test_roles_without_change_capability_get_403(api_client_for, world, who):
    client = api_client_for(getattr(world, who))
    before = Equipment.objects.count()
    state = snapshot(world.machine_a)
    assert post(client, f"{API}/equipment", new_machine(world)).status_code == 403
    base = f"{API}/equipment/{world.machine_a.pk}"
    assert patch(client, base, {"serial_number": "HACK"}).status_code == 403
    assert post(client, f"{base}/invalidate", {"reason": "x"}).status_code == 403
    assert Equipment.objects.count() == before
    assert snapshot(world.machine_a) == state


def test_patch_changes_only_what_is_sent(api_client_for, world):
    response = patch(api_client_for(world.agent), f"{API}/equipment/{world.machine_a.pk}", {"lot_number": "LOT-8"})
    assert response.status_code == 200
    assert response.json()["lot_number"] == "LOT-8"
    world.machine_a.refresh_from_db()
    assert (world.machine_a.lot_number, world.machine_a.site) == ("LOT-8", world.site_a)


def test_status_is_read_only_in_patch(api_client_for, world):
    response = patch(api_client_for(world.agent), f"{API}/equipment/{world.machine_a.pk}", {"status": "invalidated"})
    assert response.status_code == 422
    assert error_fields(response) == {"status"}
    world.machine_a.refresh_from_db()
    assert world.machine_a.status == EquipmentStatus.REGISTERED


def test_patch_null_customer_is_422(api_client_for, world):
    response = patch(api_client_for(world.agent), f"{API}/equipment/{world.machine_a.pk}", {"customer": None})
    assert response.status_code == 422
    assert error_fields(response) == {"customer"}


def test_patch_to_an_invisible_customer_is_422(api_client_for, world):
    # An agent sees every customer; a scoped user never gets this far (403), so use a missing id.
    response = patch(api_client_for(world.agent), f"{API}/equipment/{world.machine_a.pk}", {"customer": 424242})
    assert response.status_code == 422
    assert error_fields(response) == {"customer"}


def test_invalidate_then_reinstate_and_repeats_are_409(api_client_for, world):
    client = api_client_for(world.agent)
    base = f"{API}/equipment/{world.machine_a.pk}"
    response = post(client, f"{base}/invalidate", {"reason": "Scrapped"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["invalidated_reason"]) == ("invalidated", "Scrapped")
    repeat = post(client, f"{base}/invalidate", {"reason": "again"})
    assert repeat.status_code == 409
    assert repeat.json()["code"] == "already_invalidated"
    assert post(client, f"{base}/reinstate", {}).json()["status"] == "registered"
    assert post(client, f"{base}/reinstate", {}).status_code == 409


def test_invalidate_without_reason_is_422(api_client_for, world):
    response = post(api_client_for(world.agent), f"{API}/equipment/{world.machine_a.pk}/invalidate", {"reason": ""})
    assert response.status_code == 422
    assert error_fields(response) == {"reason"}


# Product models and BOM


def test_product_models_are_listed_with_search(api_client_for, world):
    factories.product_model(code="XR-9", name="Extruder")
    client = api_client_for(world.customer_user_a)
    assert [item["code"] for item in client.get(f"{API}/product-models", {"q": "extru"}).json()["items"]] == ["XR-9"]
    detail = client.get(f"{API}/product-models/{world.model.pk}").json()
    assert {(line["part_number"], line["quantity"]) for line in detail["bom"]} == {
        ("MOTOR-1", "1.000"),
        ("BELT-1", "2.500"),
    }


def test_admin_creates_and_patches_a_product_model(api_client_for, world):
    client = api_client_for(world.admin)
    created = post(client, f"{API}/product-models", {"code": "hp-1", "name": "Press"}, **{"Idempotency-Key": "pm"})
    assert created.status_code == 201
    assert created.json()["code"] == "HP-1"
    assert (
        post(client, f"{API}/product-models", {"code": "hp-1", "name": "Press"}, **{"Idempotency-Key": "pm"}).json()[
            "id"
        ]
        == created.json()["id"]
    )
    assert ProductModel.objects.filter(code="HP-1").count() == 1
    patched = patch(client, f"{API}/product-models/{created.json()['id']}", {"default_warranty_months": 24})
    assert patched.status_code == 200
    assert patched.json()["default_warranty_months"] == 24
    duplicate = post(client, f"{API}/product-models", {"code": "IM-200", "name": "Copy"})
    assert duplicate.status_code == 422
    assert error_fields(duplicate) == {"code"}


def test_bom_is_replaced_with_put(api_client_for, world):
    screw = factories.part()
    client = api_client_for(world.admin)
    url = f"{API}/product-models/{world.model.pk}/bom"
    response = put(
        client, url, {"lines": [{"part": screw.pk, "quantity": "4"}, {"part": world.motor.pk, "quantity": 2}]}
    )
    assert response.status_code == 200
    assert {(line["part"], line["quantity"]) for line in response.json()["bom"]} == {
        (screw.pk, "4.000"),
        (world.motor.pk, "2.000"),
    }
    bad = put(client, url, {"lines": [{"part": screw.pk, "quantity": "0"}]})
    assert bad.status_code == 422
    assert error_fields(bad) == {"lines[0].quantity"}
    unknown = put(client, url, {"lines": [{"part": 999999, "quantity": "1"}]})
    assert unknown.status_code == 422
    assert error_fields(unknown) == {"lines[0].part"}
    twice = put(client, url, {"lines": [{"part": screw.pk, "quantity": 1}, {"part": screw.pk, "quantity": 1}]})
    assert twice.status_code == 422
    assert BomLine.objects.filter(product_model=world.model).count() == 2


@pytest.mark.parametrize("who", ["engineer", "parts_keeper", "provider_admin", "customer_user_a"])
def test_product_model_changes_need_the_capability(api_client_for, world, who):
    client = api_client_for(getattr(world, who))
    assert post(client, f"{API}/product-models", {"code": "NO-1", "name": "No"}).status_code == 403
    assert patch(client, f"{API}/product-models/{world.model.pk}", {"name": "Hacked"}).status_code == 403
    assert put(client, f"{API}/product-models/{world.model.pk}/bom", {"lines": []}).status_code == 403
    world.model.refresh_from_db()
    assert world.model.name == "Injection moulder 200"
    assert world.model.bom_lines.count() == 2
    assert not ProductModel.objects.filter(code="NO-1").exists()


def test_unknown_product_model_is_404(api_client_for, world):
    assert api_client_for(world.agent).get(f"{API}/product-models/999999").status_code == 404


@pytest.mark.parametrize(
    "who", ["agent", "dispatcher", "director", "engineer", "parts_keeper", "provider_admin", "customer_user_a"]
)
def test_only_administrators_change_product_models_and_boms(api_client_for, world, who):
    client = api_client_for(getattr(world, who))
    assert post(client, f"{API}/product-models", {"code": "HP-1", "name": "Press"}).status_code == 403
    assert patch(client, f"{API}/product-models/{world.model.pk}", {"name": "Hacked"}).status_code == 403
    bom = {"lines": [{"part": world.motor.pk, "quantity": "9"}]}
    assert put(client, f"{API}/product-models/{world.model.pk}/bom", bom).status_code == 403
    world.model.refresh_from_db()
    assert world.model.name == "Injection moulder 200" and not ProductModel.objects.filter(code="HP-1").exists()
    assert {(line.part_id, line.quantity) for line in world.model.bom_lines.all()} == {
        (world.motor.pk, 1),
        (world.belt.pk, Decimal("2.5")),
    }
