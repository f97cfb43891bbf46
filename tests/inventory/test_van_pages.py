"""The engineer's phone pages of his own stock: what he holds, asking for parts, confirming what
arrived, and sending parts back. He sees his own van and its documents only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fieldservice.inventory import services
from fieldservice.inventory.choices import DefectStatus, Grade, MoveReason, TransferKind, TransferStatus
from fieldservice.inventory.models import DefectivePart, StockBalance, Transfer
from fieldservice.inventory.services import Line, post
from tests import factories


def balance(warehouse, part, grade=Grade.GOOD):
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade).first()
    return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


def fill(van, part, quantity, actor):
    """Stock in the van as a requisition would leave it (vans are not receipt places)."""
    post([Line(van, part, MoveReason.ISSUE, quantity=Decimal(quantity))], actor=actor)


@pytest.fixture
def world(personas):
    central = factories.warehouse(personas.own, name="Central")
    part = factories.part(part_number="PUMP-1", name="Pump")
    factories.stock(central, part, 10)
    van = services.van_for(personas.engineer)
    return central, part, van


def test_the_engineer_requests_parts_for_an_order_and_confirms_receipt(client_for, personas, world):
    central, part, van = world
    client = client_for(personas.engineer)
    form = client.get(reverse("inventory:van_request"), {"order": "42", "number": "WO0000042"})
    assert form.status_code == 200 and "WO0000042" in form.content.decode()
    assert f'<option value="{central.pk}">'.encode() in form.content
    response = client.post(
        reverse("inventory:van_request"),
        {
            "source": central.pk,
            "part_0": "PUMP-1",
            "quantity_0": "3",
            "urgent": "on",
            "order": "42",
            "number": "WO0000042",
        },
    )
    assert response.status_code == 302 and response.url == reverse("inventory:van_requests")
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.destination, transfer.urgent) == (TransferKind.REQUISITION, van, True)
    assert (transfer.work_order_id, transfer.work_order_number) == (42, "WO0000042")

    services.approve_transfer(transfer, actor=personas.parts_keeper)
    services.ship_transfer(transfer, actor=personas.parts_keeper, delivery="collect")
    page = client.get(reverse("inventory:van_requests")).content.decode()
    assert "Confirm receipt" in page and f'id="transfer-{transfer.pk}"' in page
    line = transfer.lines.get()
    url = reverse("inventory:van_receive", args=[transfer.pk])
    too_many = client.post(url, {f"t{transfer.pk}-q_{line.pk}": "4"})
    assert too_many.status_code == 422
    assert f'id="id_t{transfer.pk}-q_{line.pk}_error"'.encode() in too_many.content
    assert client.post(url, {f"t{transfer.pk}-q_{line.pk}": "2"}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert balance(van, part) == (Decimal(2), Decimal(0))
    # Sent again (a second tap), it is refused and moves nothing.
    again = client.post(url, {f"t{transfer.pk}-q_{line.pk}": "2"}, follow=True)
    assert "already" in again.content.decode()
    assert balance(van, part) == (Decimal(2), Decimal(0))
    stock = client.get(reverse("inventory:van_stock")).content.decode()
    assert "PUMP-1" in stock and "2 piece on hand" in stock


def test_bad_request_lines_are_named(client_for, personas, world):
    central, _part, _van = world
    client = client_for(personas.engineer)
    url = reverse("inventory:van_request")
    assert (
        b'id="id_part_1_error"' in client.post(url, {"source": central.pk, "part_1": "NOPE", "quantity_1": "1"}).content
    )
    assert (
        b'id="id_quantity_0_error"'
        in client.post(url, {"source": central.pk, "part_0": "PUMP-1", "quantity_0": "-2"}).content
    )
    assert b'id="id_source_error"' in client.post(url, {"part_0": "PUMP-1", "quantity_0": "1"}).content
    assert Transfer.objects.count() == 0


def test_another_organisations_warehouse_is_not_a_source(client_for, personas, world):
    _central, _part, _van = world
    theirs = factories.warehouse(personas.provider)
    response = client_for(personas.engineer).post(
        reverse("inventory:van_request"), {"source": theirs.pk, "part_0": "PUMP-1", "quantity_0": "1"}
    )
    assert b'id="id_source_error"' in response.content
    assert Transfer.objects.count() == 0


def test_the_engineer_returns_good_and_defective_parts(client_for, personas, world):
    central, part, van = world
    fill(van, part, 3, personas.parts_keeper)
    post(
        [Line(van, part, MoveReason.REMOVED_FROM_MACHINE, quantity=Decimal(1), grade=Grade.DEFECTIVE)],
        actor=personas.engineer,
    )
    defect = DefectivePart.objects.create(
        part=part, quantity=1, engineer=personas.engineer, warehouse=van, work_order_number="WO0000005"
    )
    client = client_for(personas.engineer)
    stock = client.get(reverse("inventory:van_stock")).content.decode()
    assert "WO0000005" in stock and 'id="defective-stock"' in stock
    good = StockBalance.objects.get(warehouse=van, part=part, grade=Grade.GOOD)
    url = reverse("inventory:van_return")
    too_many = client.post(url, {"destination": central.pk, f"g_{good.pk}": "5"})
    assert too_many.status_code == 200 and f'id="id_g_{good.pk}_error"'.encode() in too_many.content
    assert Transfer.objects.count() == 0
    response = client.post(url, {"destination": central.pk, f"g_{good.pk}": "2", "defects": [defect.pk]})
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.status) == (TransferKind.RETURN, TransferStatus.APPROVED)
    assert balance(van, part) == (Decimal(3), Decimal(2))
    page = client.get(reverse("inventory:van_requests")).content.decode()
    assert "Hand over / ship" in page
    shipped = client.post(reverse("inventory:van_ship", args=[transfer.pk]), {f"t{transfer.pk}-delivery": "collect"})
    assert shipped.status_code == 302
    defect.refresh_from_db()
    assert defect.status == DefectStatus.RETURNING
    assert balance(van, part) == (Decimal(1), Decimal(0))
    services.receive_transfer(transfer, actor=personas.parts_keeper)
    assert balance(central, part, Grade.DEFECTIVE)[0] == Decimal(1)


def test_the_engineer_cancels_his_request(client_for, personas, world):
    central, part, van = world
    transfer = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 1}],
    )
    client = client_for(personas.engineer)
    assert client.post(reverse("inventory:van_cancel", args=[transfer.pk])).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_another_engineer_sees_nothing_of_my_stock_or_requests(client_for, personas, world):
    central, part, van = world
    fill(van, part, 2, personas.parts_keeper)
    mine = services.request_transfer(
        actor=personas.engineer,
        kind="requisition",
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 1}],
    )
    services.approve_transfer(mine, actor=personas.parts_keeper)
    services.ship_transfer(mine, actor=personas.parts_keeper, delivery="collect")
    line = mine.lines.get()
    other = factories.engineer(personas.own)
    client = client_for(other)
    for name, hidden in (("van_stock", "PUMP-1"), ("van_requests", mine.number)):
        page = client.get(reverse(f"inventory:{name}"))
        assert page.status_code == 200 and hidden not in page.content.decode()
    for name in ("van_receive", "van_ship", "van_cancel"):
        assert (
            client.post(reverse(f"inventory:{name}", args=[mine.pk]), {f"t{mine.pk}-q_{line.pk}": "1"}).status_code
            == 404
        )
    mine.refresh_from_db()
    assert mine.status == TransferStatus.SHIPPED
    # The keeper's desk pages are not the engineer's.
    assert client_for(personas.engineer).get(reverse("inventory:transfer_detail", args=[mine.pk])).status_code == 403
    for outsider in (personas.customer_user_a, personas.provider_admin, personas.parts_keeper):
        for name in ("van_stock", "van_request", "van_requests", "van_return"):
            assert client_for(outsider).get(reverse(f"inventory:{name}")).status_code == 403
        assert client_for(outsider).post(reverse("inventory:van_receive", args=[mine.pk])).status_code == 403
    assert balance(van, part) == (Decimal(2), Decimal(0))


def test_empty_states(client_for, personas):
    client = client_for(personas.engineer)
    assert "You hold no parts." in client.get(reverse("inventory:van_stock")).content.decode()
    assert "No requests or returns yet." in client.get(reverse("inventory:van_requests")).content.decode()
    assert "You have no parts to return." in client.get(reverse("inventory:van_return")).content.decode()


def test_the_work_list_links_my_stock(client_for, personas):
    page = client_for(personas.engineer).get(reverse("field:today")).content.decode()
    assert f'href="{reverse("inventory:van_stock")}"' in page
