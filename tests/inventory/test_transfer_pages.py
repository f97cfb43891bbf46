"""The keeper's pages of requisitions, transfers and returns, and the requisitions panel of the
work order page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from fieldservice.inventory import services
from fieldservice.inventory.choices import Grade, TransferKind, TransferStatus
from fieldservice.inventory.models import StockBalance, Transfer
from tests import factories


def balance(warehouse, part, grade=Grade.GOOD):
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade).first()
    return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


@pytest.fixture
def world(personas):
    central = factories.warehouse(personas.own, name="Central")
    regional = factories.warehouse(personas.own, name="Regional", kind="regional")
    part = factories.part(part_number="PUMP-1")
    factories.stock(central, part, 10)
    van = services.van_for(personas.engineer)
    return central, regional, part, van


def requisition(personas, central, part, van, **extra):
    return services.request_transfer(
        actor=personas.engineer,
        kind=TransferKind.REQUISITION,
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": 4}],
        **extra,
    )


def test_the_keeper_moves_stock_between_warehouses_by_page(client_for, personas, world):
    central, regional, part, _van = world
    client = client_for(personas.parts_keeper)
    response = client.post(
        reverse("inventory:transfer_create"),
        {
            "kind": "transfer",
            "source": central.pk,
            "destination": regional.pk,
            "part_0": "pump-1",
            "quantity_0": "6",
            "delivery": "ship",
            "urgent": "on",
        },
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response.url == reverse("inventory:transfer_detail", args=[transfer.pk])
    assert transfer.kind == TransferKind.TRANSFER and transfer.urgent
    line = transfer.lines.get()
    detail = client.get(response.url)
    assert b'id="approve"' in detail.content and b'id="receive"' not in detail.content

    assert (
        client.post(reverse("inventory:transfer_approve", args=[transfer.pk]), {f"q_{line.pk}": "5"}).status_code == 302
    )
    assert balance(central, part) == (Decimal(10), Decimal(5))
    missing_carrier = client.post(reverse("inventory:transfer_ship", args=[transfer.pk]), {"delivery": "ship"})
    assert missing_carrier.status_code == 422
    assert b'id="id_carrier_error"' in missing_carrier.content
    shipped = client.post(
        reverse("inventory:transfer_ship", args=[transfer.pk]),
        {"delivery": "ship", "carrier": "SF", "tracking_number": "1"},
    )
    assert shipped.status_code == 302
    too_many = client.post(reverse("inventory:transfer_receive", args=[transfer.pk]), {f"q_{line.pk}": "6"})
    assert too_many.status_code == 422 and f'id="id_q_{line.pk}_error"'.encode() in too_many.content
    assert (
        client.post(reverse("inventory:transfer_receive", args=[transfer.pk]), {f"q_{line.pk}": "4"}).status_code == 302
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert balance(regional, part) == (Decimal(4), Decimal(0))
    assert balance(central, part) == (Decimal(5), Decimal(0))
    page = client.get(reverse("inventory:transfer_detail", args=[transfer.pk])).content.decode()
    assert "transfer received" in page  # the history
    assert f'id="line-{line.pk}"' in page


def test_a_requisition_for_an_engineer_and_bad_lines_named(client_for, personas, world):
    central, _regional, _part, van = world
    client = client_for(personas.parts_keeper)
    url = reverse("inventory:transfer_create")
    data = {"kind": "requisition", "source": central.pk, "destination": van.pk, "delivery": "collect"}
    unknown = client.post(url, {**data, "part_0": "NOPE", "quantity_0": "1"})
    assert unknown.status_code == 200 and b'id="id_part_0_error"' in unknown.content
    bad_quantity = client.post(url, {**data, "part_2": "PUMP-1", "quantity_2": "abc"})
    assert b'id="id_quantity_2_error"' in bad_quantity.content
    nothing = client.post(url, data)
    assert b'id="id_part_0_error"' in nothing.content
    assert Transfer.objects.count() == 0
    made = client.post(url, {**data, "part_1": "PUMP-1", "quantity_1": "2", "work_order_number": "WO9"})
    assert made.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.kind, transfer.destination, transfer.work_order_number) == ("requisition", van, "WO9")


def test_the_list_filters_searches_and_exports(client_for, personas, world):
    central, regional, part, van = world
    urgent = requisition(personas, central, part, van, urgent=True, work_order_number="WO0000042")
    plain = services.request_transfer(
        actor=personas.parts_keeper,
        kind=TransferKind.TRANSFER,
        source=central,
        destination=regional,
        lines=[{"part": part, "quantity": 1}],
    )
    client = client_for(personas.parts_keeper)
    url = reverse("inventory:transfer_list")
    page = client.get(url).content.decode()
    assert f'id="transfer-{urgent.pk}"' in page and f'id="transfer-{plain.pk}"' in page
    only_urgent = client.get(url, {"urgent": "yes"}).content.decode()
    assert f'id="transfer-{urgent.pk}"' in only_urgent and f'id="transfer-{plain.pk}"' not in only_urgent
    by_order = client.get(url, {"q": "0042"}).content.decode()
    assert f'id="transfer-{urgent.pk}"' in by_order and f'id="transfer-{plain.pk}"' not in by_order
    by_kind = client.get(url, {"kind": "transfer", "warehouse": regional.pk}).content.decode()
    assert f'id="transfer-{plain.pk}"' in by_kind and f'id="transfer-{urgent.pk}"' not in by_kind
    empty = client.get(url, {"status": "received"}).content.decode()
    assert "No document matches these filters." in empty
    export = client.get(url, {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_an_empty_list_says_so(client_for, personas):
    page = client_for(personas.parts_keeper).get(reverse("inventory:transfer_list")).content.decode()
    assert "No requisitions, transfers or returns yet." in page


def test_a_second_approval_by_page_is_refused_and_reserves_once(client_for, personas, world):
    central, _regional, part, van = world
    transfer = requisition(personas, central, part, van)
    client = client_for(personas.parts_keeper)
    url = reverse("inventory:transfer_approve", args=[transfer.pk])
    line = transfer.lines.get()
    assert client.post(url, {f"q_{line.pk}": "4"}).status_code == 302
    again = client.post(url, {f"q_{line.pk}": "4"}, follow=True)
    assert "already" in again.content.decode()
    assert balance(central, part) == (Decimal(10), Decimal(4))


def test_reject_needs_a_reason(client_for, personas, world):
    central, _regional, part, van = world
    transfer = requisition(personas, central, part, van)
    client = client_for(personas.parts_keeper)
    url = reverse("inventory:transfer_reject", args=[transfer.pk])
    assert b'id="id_reject-reason_error"' in client.post(url, {"reject-reason": ""}).content
    assert client.post(url, {"reject-reason": "No stock for this"}).status_code == 302
    transfer.refresh_from_db()
    assert (transfer.status, transfer.closed_note) == (TransferStatus.REJECTED, "No stock for this")


def test_others_get_404_or_403_and_nothing_changes(client_for, personas, world):
    central, _regional, part, van = world
    transfer = requisition(personas, central, part, van)
    other_engineer = factories.engineer(personas.own)
    for outsider in (
        personas.provider_admin,
        personas.other_provider_admin,
        personas.customer_user_a,
        personas.provider_engineer,
        other_engineer,
    ):
        client = client_for(outsider)
        assert client.get(reverse("inventory:transfer_detail", args=[transfer.pk])).status_code == 404
        for verb in ("approve", "reject", "cancel", "ship", "receive"):
            response = client.post(reverse(f"inventory:transfer_{verb}", args=[transfer.pk]), {"reject-reason": "x"})
            assert response.status_code == 404
    for outsider in (personas.customer_user_a, personas.engineer):
        assert client_for(outsider).get(reverse("inventory:transfer_list")).status_code == 403
        assert client_for(outsider).get(reverse("inventory:transfer_create")).status_code == 403
    # The dispatcher sees the document and may not approve it.
    dispatcher = client_for(personas.dispatcher)
    page = dispatcher.get(reverse("inventory:transfer_detail", args=[transfer.pk]))
    assert page.status_code == 200 and b'id="approve"' not in page.content
    assert dispatcher.post(reverse("inventory:transfer_approve", args=[transfer.pk])).status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert balance(central, part) == (Decimal(10), Decimal(0))


def test_a_provider_admin_sees_his_own_not_ours(client_for, personas, world):
    central, _regional, part, van = world
    ours = requisition(personas, central, part, van)
    theirs_wh = factories.warehouse(personas.provider)
    factories.stock(theirs_wh, part, 3)
    theirs = services.request_transfer(
        actor=personas.provider_engineer,
        kind=TransferKind.REQUISITION,
        source=theirs_wh,
        destination=services.van_for(personas.provider_engineer),
        lines=[{"part": part, "quantity": 1}],
    )
    page = client_for(personas.provider_admin).get(reverse("inventory:transfer_list")).content.decode()
    assert f'id="transfer-{theirs.pk}"' in page and f'id="transfer-{ours.pk}"' not in page
    other = client_for(personas.other_provider_admin).get(reverse("inventory:transfer_list")).content.decode()
    assert f'id="transfer-{theirs.pk}"' not in other


def test_the_order_page_shows_its_urgent_requisition_to_the_dispatcher_only(client_for, personas, world):
    central, _regional, part, van = world
    order = factories.work_order(personas.customer_a, actor=personas.admin)
    transfer = requisition(
        personas, central, part, van, urgent=True, work_order_id=order.pk, work_order_number=order.number
    )
    unrelated = requisition(personas, central, part, van, work_order_id=order.pk + 1000)
    url = reverse("workorders:order_detail", args=[order.pk])
    page = client_for(personas.dispatcher).get(url).content.decode()
    assert 'id="requisitions"' in page and f'id="requisition-{transfer.pk}"' in page
    assert f'id="requisition-{unrelated.pk}"' not in page
    assert "PUMP-1 × 4" in page
    customer = client_for(personas.customer_user_a).get(url)
    assert customer.status_code == 200
    assert b'id="requisitions"' not in customer.content and transfer.number.encode() not in customer.content
    # And on the dispatcher's own page of the order, where he decides whom to send.
    dispatch_page = client_for(personas.dispatcher).get(reverse("dispatch:order", args=[order.pk])).content.decode()
    assert (
        f'id="requisition-{transfer.pk}"' in dispatch_page and f'id="requisition-{unrelated.pk}"' not in dispatch_page
    )


def test_serial_parts_are_named_when_shipped_and_missing_ones_on_receipt(client_for, personas):
    central = factories.warehouse(personas.own)
    regional = factories.warehouse(personas.own, kind="regional")
    part = factories.part(tracking="serial")
    factories.stock(central, part, 2, serials="U1 U2")
    transfer = services.request_transfer(
        actor=personas.parts_keeper,
        kind=TransferKind.TRANSFER,
        source=central,
        destination=regional,
        lines=[{"part": part, "quantity": 2}],
    )
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    line = transfer.lines.get()
    client = client_for(personas.parts_keeper)
    page = client.get(reverse("inventory:transfer_detail", args=[transfer.pk])).content.decode()
    assert f'name="s_{line.pk}"' in page
    ship = reverse("inventory:transfer_ship", args=[transfer.pk])
    wrong = client.post(ship, {"delivery": "collect", f"s_{line.pk}": "U1"})
    assert wrong.status_code == 422 and f'id="id_s_{line.pk}_error"'.encode() in wrong.content
    assert client.post(ship, {"delivery": "collect", f"s_{line.pk}": "U1 U2"}).status_code == 302
    receive = reverse("inventory:transfer_receive", args=[transfer.pk])
    strange = client.post(receive, {f"m_{line.pk}": "U9"})
    assert strange.status_code == 422 and f'id="id_m_{line.pk}_error"'.encode() in strange.content
    assert client.post(receive, {f"m_{line.pk}": "U2"}).status_code == 302
    assert list(part.units.filter(warehouse=regional).values_list("serial", flat=True)) == ["U1"]
    page = client.get(reverse("inventory:transfer_detail", args=[transfer.pk])).content.decode()
    assert "U1, U2" in page
