"""Requisitions, transfers and returns over the API: the whole flow, who may see and move what,
bad input named, and a retried call that moves stock once."""

from decimal import Decimal

import pytest

from fieldservice.inventory import services
from fieldservice.inventory.choices import Grade, MoveReason, TransferStatus
from fieldservice.inventory.models import DefectivePart, StockBalance, StockMove, Transfer
from fieldservice.inventory.services import Line, post
from tests import factories

API = "/api/v1/transfers"


def send(client, url, data=None, **headers):
    return client.post(url, data if data is not None else {}, content_type="application/json", headers=headers)


def error_fields(response) -> set:
    """The fields a 422 names: ["body", field] from the services, ["body", "payload", field] from the schema."""
    return {item["loc"][-1] if item["loc"][1] == "payload" else item["loc"][1] for item in response.json()["detail"]}


def balance(warehouse, part, grade=Grade.GOOD):
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade).first()
    return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


@pytest.fixture
def world(personas):
    central = factories.warehouse(personas.own)
    part = factories.part()
    factories.stock(central, part, 10)
    van = services.van_for(personas.engineer)
    return central, part, van


def requisition_body(central, part, van, quantity="4", **extra):
    return {
        "kind": "requisition",
        "source": central.pk,
        "destination": van.pk,
        "lines": [{"part": part.pk, "quantity": quantity}],
        "urgent": True,
        "work_order_id": 7,
        "work_order_number": "WO0000007",
        **extra,
    }


def test_requisition_from_the_phone_to_the_van_by_api(api_client_for, personas, world):
    central, part, van = world
    engineer, keeper = api_client_for(personas.engineer), api_client_for(personas.parts_keeper)
    created = send(engineer, API, requisition_body(central, part, van))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["number"].startswith("RQ") and body["status"] == "requested" and body["urgent"]
    line = body["lines"][0]["id"]
    pk = body["id"]

    approved = send(keeper, f"{API}/{pk}/approve", {"quantities": {str(line): "3"}})
    assert approved.status_code == 200, approved.content
    assert approved.json()["lines"][0]["approved"] == "3.000"
    assert balance(central, part) == (Decimal(10), Decimal(3))

    shipped = send(keeper, f"{API}/{pk}/ship", {"carrier": "SF", "tracking_number": "SF1"})
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    received = send(engineer, f"{API}/{pk}/receive", {"quantities": {str(line): 2}})
    assert received.status_code == 200, received.content
    assert received.json()["lines"][0]["shortfall"] == "1.000"
    assert balance(van, part) == (Decimal(2), Decimal(0))
    assert balance(central, part) == (Decimal(7), Decimal(0))

    listed = keeper.get(API, {"kind": "requisition", "status": "received", "warehouse": central.pk}).json()
    assert [item["id"] for item in listed["items"]] == [pk]
    assert keeper.get(API, {"status": "requested"}).json()["count"] == 0
    assert engineer.get(f"{API}/{pk}").json()["lines"][0]["received"] == "2.000"


def test_a_second_approval_reserves_once_and_is_409(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
    )
    keeper = api_client_for(personas.parts_keeper)
    assert send(keeper, f"{API}/{transfer.pk}/approve").status_code == 200
    again = send(keeper, f"{API}/{transfer.pk}/approve")
    assert again.status_code == 409 and again.json()["code"] == "already_approved"
    assert balance(central, part) == (Decimal(10), Decimal(4))
    assert StockMove.objects.filter(document_id=transfer.pk, reason=MoveReason.RESERVE).count() == 1


def test_a_second_receipt_is_409_and_moves_nothing(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
    )
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    services.ship_transfer(transfer, actor=personas.parts_keeper, delivery="collect")
    engineer = api_client_for(personas.engineer)
    assert send(engineer, f"{API}/{transfer.pk}/receive").status_code == 200
    again = send(engineer, f"{API}/{transfer.pk}/receive")
    assert again.status_code == 409 and again.json()["code"] == "already_received"
    assert balance(van, part) == (Decimal(4), Decimal(0))


def test_receiving_more_than_shipped_names_the_line(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
    )
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF")
    line = transfer.lines.get()
    response = send(api_client_for(personas.engineer), f"{API}/{transfer.pk}/receive", {"quantities": {line.pk: "5"}})
    assert response.status_code == 422
    assert error_fields(response) == {f"quantities[{line.pk}]"}
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SHIPPED
    assert balance(van, part) == (Decimal(0), Decimal(0))


def test_the_create_is_idempotent(api_client_for, personas, world):
    central, part, van = world
    client = api_client_for(personas.engineer)
    body = requisition_body(central, part, van)
    first = send(client, API, body, **{"Idempotency-Key": "rq-1"})
    again = send(client, API, body, **{"Idempotency-Key": "rq-1"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Transfer.objects.count() == 1
    other = send(client, API, requisition_body(central, part, van, quantity="2"), **{"Idempotency-Key": "rq-1"})
    assert other.status_code == 422
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"part": 0, "quantity": "1"}]}, "part"),
        ({"lines": [{"part": -1, "quantity": "1"}]}, "part"),
        ({"kind": "gift"}, "kind"),
        ({"delivery": "drone"}, "delivery"),
        ({"lines": []}, "lines"),
        ({"colour": "red"}, "colour"),
        ({"note": "x" * 501}, "note"),
        ({"source": 999999}, "source"),
    ],
)
def test_bad_input_is_named(api_client_for, personas, world, change, field):
    central, part, van = world
    response = send(api_client_for(personas.engineer), API, {**requisition_body(central, part, van), **change})
    assert response.status_code == 422, response.content
    assert any(field in name for name in error_fields(response)), response.json()
    assert Transfer.objects.count() == 0


def test_a_bad_quantity_names_its_line(api_client_for, personas, world):
    central, part, van = world
    for quantity in ("0", "-1", "abc"):
        response = send(api_client_for(personas.engineer), API, requisition_body(central, part, van, quantity=quantity))
        assert response.status_code == 422
        assert error_fields(response) == {"lines[0].quantity"}
    assert Transfer.objects.count() == 0


def test_others_do_not_see_or_move_a_transfer(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
    )
    other_engineer = factories.engineer(personas.own)
    for outsider in (
        personas.provider_admin,
        personas.other_provider_admin,
        personas.provider_engineer,
        personas.customer_user_a,
        other_engineer,
    ):
        client = api_client_for(outsider)
        assert client.get(f"{API}/{transfer.pk}").status_code == 404
        assert send(client, f"{API}/{transfer.pk}/approve").status_code == 404
        assert send(client, f"{API}/{transfer.pk}/cancel").status_code == 404
        listed = client.get(API)
        if outsider == personas.customer_user_a:
            assert listed.status_code == 403
        else:
            assert listed.status_code == 200 and listed.json()["count"] == 0
    # The dispatcher sees it but may not approve; the engineer may not approve his own.
    assert api_client_for(personas.dispatcher).get(f"{API}/{transfer.pk}").status_code == 200
    assert send(api_client_for(personas.dispatcher), f"{API}/{transfer.pk}/approve").status_code == 403
    assert send(api_client_for(personas.engineer), f"{API}/{transfer.pk}/approve").status_code == 403
    assert api_client_for(personas.customer_user_a).get(API).status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert balance(central, part) == (Decimal(10), Decimal(0))


def test_an_engineer_cannot_fill_another_van_by_api(api_client_for, personas, world):
    central, part, _van = world
    other_van = services.van_for(factories.engineer(personas.own))
    response = send(api_client_for(personas.engineer), API, requisition_body(central, part, other_van))
    assert response.status_code == 422
    assert error_fields(response) == {"destination"}
    assert Transfer.objects.count() == 0


def test_reject_needs_a_reason_and_releases_nothing_twice(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
    )
    keeper = api_client_for(personas.parts_keeper)
    empty = send(keeper, f"{API}/{transfer.pk}/reject", {"reason": ""})
    assert empty.status_code == 422 and error_fields(empty) == {"reason"}
    rejected = send(keeper, f"{API}/{transfer.pk}/reject", {"reason": "Out of stock"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert send(keeper, f"{API}/{transfer.pk}/cancel").status_code == 409


def test_a_return_with_a_defective_part_by_api(api_client_for, personas, world):
    central, part, van = world
    post(
        [Line(van, part, MoveReason.REMOVED_FROM_MACHINE, quantity=Decimal(1), grade=Grade.DEFECTIVE)],
        actor=personas.engineer,
    )
    defect = DefectivePart.objects.create(part=part, quantity=1, engineer=personas.engineer, warehouse=van)
    engineer = api_client_for(personas.engineer)
    created = send(
        engineer, API, {"kind": "return", "source": van.pk, "destination": central.pk, "defects": [defect.pk]}
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "approved"
    assert send(engineer, f"{API}/{pk}/ship", {"delivery": "collect"}).status_code == 200
    assert send(api_client_for(personas.parts_keeper), f"{API}/{pk}/receive").status_code == 200
    assert balance(central, part, Grade.DEFECTIVE)[0] == Decimal(1)
    # Someone else's defective part cannot be put on a return.
    other = factories.engineer(personas.own)
    response = send(
        api_client_for(other),
        API,
        {"kind": "return", "source": services.van_for(other).pk, "destination": central.pk, "defects": [defect.pk]},
    )
    assert response.status_code == 422 and error_fields(response) == {"defects"}


def test_approving_more_than_is_free_names_the_line(api_client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 12}],
    )
    line = transfer.lines.get()
    response = send(api_client_for(personas.parts_keeper), f"{API}/{transfer.pk}/approve")
    assert response.status_code == 422
    assert error_fields(response) == {f"quantities[{line.pk}]"}
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert balance(central, part) == (Decimal(10), Decimal(0))


def test_a_huge_quantity_is_named_not_a_crash(api_client_for, personas, world):
    central, part, van = world
    for quantity in ("1e999999", 1e300, "NaN"):
        response = send(api_client_for(personas.engineer), API, requisition_body(central, part, van, quantity=quantity))
        assert response.status_code == 422
        assert error_fields(response) == {"lines[0].quantity"}
