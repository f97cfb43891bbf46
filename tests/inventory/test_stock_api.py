"""The warehouse and stock API: scoped lists, 404 for what one may not see, 403 for moves one may
not make, field errors that name the field and write nothing, idempotent receipts."""

from decimal import Decimal

import pytest

from fieldservice.inventory import services
from fieldservice.inventory.choices import Tracking
from fieldservice.inventory.models import SerialUnit, StockBalance, StockMove, Warehouse
from tests import factories

API = "/api/v1"


@pytest.fixture
def stock(personas):
    motor = factories.part(part_number="MOTOR-1", name="Servo motor")
    central = factories.warehouse(personas.own, code="WH-SH", name="Shanghai")
    provider = factories.warehouse(personas.provider, code="WH-B", name="Provider B store")
    factories.stock(central, motor, 10, unit_cost="5", reference="PO-1")
    factories.stock(provider, motor, 4, reference="PO-B")
    return {
        "motor": motor,
        "central": central,
        "provider": provider,
        "van": services.van_for(personas.engineer),
        "provider_van": services.van_for(personas.provider_engineer),
    }


def codes(response):
    assert response.status_code == 200, response.content
    return {item["code"] for item in response.json()["items"]}


def test_warehouse_lists_are_scoped(api_client_for, personas, stock):
    van, provider_van = stock["van"].code, stock["provider_van"].code
    assert codes(api_client_for(personas.parts_keeper).get(f"{API}/warehouses")) == {"WH-SH", van}
    assert codes(api_client_for(personas.provider_admin).get(f"{API}/warehouses")) == {"WH-B", provider_van}
    assert codes(api_client_for(personas.engineer).get(f"{API}/warehouses")) == {van}
    assert codes(api_client_for(personas.customer_user_a).get(f"{API}/warehouses")) == set()
    assert codes(api_client_for(personas.parts_keeper).get(f"{API}/warehouses", {"kind": "van"})) == {van}


def test_warehouse_detail_is_404_outside_ones_organisation(api_client_for, personas, stock):
    keeper = api_client_for(personas.parts_keeper)
    body = keeper.get(f"{API}/warehouses/{stock['central'].pk}").json()
    assert (body["code"], body["organisation"], body["keepers"]) == ("WH-SH", personas.own.pk, [])
    assert keeper.get(f"{API}/warehouses/{stock['provider'].pk}").status_code == 404
    other = api_client_for(personas.other_provider_admin)
    assert other.get(f"{API}/warehouses/{stock['provider'].pk}").status_code == 404


def test_create_warehouse_idempotently_in_own_organisation(api_client_for, personas):
    client = api_client_for(personas.parts_keeper)
    data = {"kind": "regional", "code": "wh-bj", "name": "Beijing"}
    first = client.post(f"{API}/warehouses", data, content_type="application/json", headers={"Idempotency-Key": "w1"})
    assert first.status_code == 201
    again = client.post(f"{API}/warehouses", data, content_type="application/json", headers={"Idempotency-Key": "w1"})
    assert again.json()["id"] == first.json()["id"]
    assert Warehouse.objects.get(code="WH-BJ").organisation == personas.own
    sneaky = client.post(
        f"{API}/warehouses",
        {"organisation": personas.provider.pk, "kind": "provider", "code": "X-1", "name": "X"},
        content_type="application/json",
    )
    # Another organisation's id answers as a made-up one would: nothing tells it exists.
    made_up = client.post(
        f"{API}/warehouses",
        {"organisation": 999_999, "kind": "provider", "code": "X-2", "name": "X"},
        content_type="application/json",
    )
    assert sneaky.status_code == made_up.status_code == 422
    assert sneaky.json()["detail"] == made_up.json()["detail"]
    assert sneaky.json()["detail"][0]["loc"][-1] == "organisation"
    assert not Warehouse.objects.filter(code__in=["X-1", "X-2"]).exists()


def test_patch_changes_details_never_quantities(api_client_for, personas, stock):
    client = api_client_for(personas.parts_keeper)
    url = f"{API}/warehouses/{stock['central'].pk}"
    response = client.patch(
        url, {"name": "Shanghai hub", "keepers": [personas.parts_keeper.pk]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["keepers"]) == ("Shanghai hub", [personas.parts_keeper.pk])
    refused = client.patch(url, {"on_hand": 99}, content_type="application/json")
    assert refused.status_code == 422
    assert StockBalance.objects.get(warehouse=stock["central"]).on_hand == Decimal("10")
    assert (
        client.patch(
            f"{API}/warehouses/{stock['provider'].pk}", {"name": "Mine"}, content_type="application/json"
        ).status_code
        == 404
    )
    stock["provider"].refresh_from_db()
    assert stock["provider"].name == "Provider B store"


def test_stock_and_moves_are_scoped_and_filtered(api_client_for, personas, stock):
    keeper = api_client_for(personas.parts_keeper)
    items = keeper.get(f"{API}/stock").json()["items"]
    assert [(item["warehouse_code"], item["part_number"], item["on_hand"]) for item in items] == [
        ("WH-SH", "MOTOR-1", "10.000")
    ]
    assert keeper.get(f"{API}/stock", {"warehouse": stock["provider"].pk}).json()["count"] == 0
    assert keeper.get(f"{API}/stock", {"grade": "defective"}).json()["count"] == 0
    moves = keeper.get(f"{API}/stock-moves", {"part": stock["motor"].pk}).json()["items"]
    assert [move["reference"] for move in moves] == ["PO-1"]
    provider = api_client_for(personas.provider_admin).get(f"{API}/stock-moves", {"reference": "PO-1"}).json()
    assert provider["count"] == 0
    assert api_client_for(personas.customer_user_a).get(f"{API}/stock").json()["count"] == 0


def receive(client, warehouse, key=None, **data):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"{API}/warehouses/{warehouse.pk}/receive", data, content_type="application/json", headers=headers
    )


def test_receive_is_idempotent(api_client_for, personas, stock):
    client = api_client_for(personas.parts_keeper)
    data = {"part": stock["motor"].pk, "quantity": "3", "unit_cost": "7", "reference": "PO-2"}
    first = receive(client, stock["central"], key="r1", **data)
    assert first.status_code == 201, first.content
    assert (first.json()["quantity"], first.json()["reason"]) == ("3.000", "receipt")
    again = receive(client, stock["central"], key="r1", **data)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert StockMove.objects.filter(reference="PO-2").count() == 1
    assert StockBalance.objects.get(warehouse=stock["central"]).on_hand == Decimal("13")
    other_body = receive(client, stock["central"], key="r1", **{**data, "quantity": "4"})
    assert other_body.status_code == 422
    assert StockBalance.objects.get(warehouse=stock["central"]).on_hand == Decimal("13")


def test_receive_serial_units_and_read_a_unit(api_client_for, personas, stock):
    drive = factories.part(part_number="DRIVE-1", name="Drive", tracking=Tracking.SERIAL)
    client = api_client_for(personas.parts_keeper)
    response = receive(client, stock["central"], part=drive.pk, quantity=2, serials=["S1", "S2"])
    assert response.status_code == 201
    assert sorted(move["serial"] for move in response.json()["moves"]) == ["S1", "S2"]
    unit = SerialUnit.objects.get(serial="S1")
    body = client.get(f"{API}/serial-units/{unit.pk}").json()
    assert (body["status"], body["warehouse_code"], len(body["moves"])) == ("in_stock", "WH-SH", 1)
    assert api_client_for(personas.provider_admin).get(f"{API}/serial-units/{unit.pk}").status_code == 404
    assert api_client_for(personas.customer_user_a).get(f"{API}/serial-units/{unit.pk}").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "1.00001"}, "quantity"),
        ({"unit_cost": "cheap"}, "unit_cost"),
        ({"part": "DRIVE", "quantity": 2, "serials": ["S1"]}, "serials"),
        ({"part": 999999}, "part"),
    ],
)
def test_bad_receipt_is_422_naming_the_field_and_writes_nothing(api_client_for, personas, stock, changes, field):
    drive = factories.part(part_number="DRIVE-1", name="Drive", tracking=Tracking.SERIAL)
    data = {"part": stock["motor"].pk, "quantity": 3, **changes}
    if data["part"] == "DRIVE":
        data["part"] = drive.pk
    before = (StockMove.objects.count(), SerialUnit.objects.count())
    response = receive(api_client_for(personas.parts_keeper), stock["central"], **data)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert (StockMove.objects.count(), SerialUnit.objects.count()) == before


def test_receipts_into_what_one_may_not_run(api_client_for, personas, stock):
    data = {"part": stock["motor"].pk, "quantity": 1, "reference": "NOPE"}
    # Sees it but may not move stock: 403; does not see it: 404.
    assert receive(api_client_for(personas.dispatcher), stock["central"], **data).status_code == 403
    assert receive(api_client_for(personas.parts_keeper), stock["provider"], **data).status_code == 404
    assert receive(api_client_for(personas.customer_user_a), stock["central"], **data).status_code == 404
    assert receive(api_client_for(personas.engineer), stock["van"], **data).status_code == 403
    assert not StockMove.objects.filter(reference="NOPE").exists()


def test_scrap_verb(api_client_for, personas, stock):
    client = api_client_for(personas.parts_keeper)
    url = f"{API}/warehouses/{stock['central'].pk}/scrap"
    missing = client.post(url, {"part": stock["motor"].pk, "quantity": 1}, content_type="application/json")
    assert missing.status_code == 422
    too_many = client.post(
        url, {"part": stock["motor"].pk, "quantity": 11, "note": "Broken"}, content_type="application/json"
    )
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["body", "quantity"]
    done = client.post(
        url, {"part": stock["motor"].pk, "quantity": 2, "note": "Broken"}, content_type="application/json"
    )
    assert done.status_code == 201
    assert done.json()["quantity"] == "-2.000"
    assert StockBalance.objects.get(warehouse=stock["central"]).on_hand == Decimal("8")
    hidden = api_client_for(personas.provider_admin).post(
        url, {"part": stock["motor"].pk, "quantity": 1, "note": "x"}, content_type="application/json"
    )
    assert hidden.status_code == 404
    assert StockBalance.objects.get(warehouse=stock["central"]).on_hand == Decimal("8")
