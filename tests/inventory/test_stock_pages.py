"""The parts keeper's desk: warehouses, stock, a part's ledger, a unit's history, receiving,
scrapping and labels, each scoped to the warehouses the user may see."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import MoveReason, Tracking, WarehouseKind
from fieldservice.inventory.models import Bin, SerialUnit, StockBalance, StockLevel, StockMove, Warehouse
from tests import factories


@pytest.fixture
def stock(personas):
    """Our central warehouse with stock, provider B's warehouse, the engineers' vans."""
    motor = factories.part(part_number="MOTOR-1", name="Servo motor")
    belt = factories.part(part_number="BELT-1", name="Belt")
    central = factories.warehouse(personas.own, code="WH-SH", name="Shanghai")
    provider = factories.warehouse(personas.provider, code="WH-B", name="Provider B store")
    other = factories.warehouse(personas.other_provider, code="WH-C", name="Provider C store")
    factories.stock(central, motor, 10, unit_cost="5", reference="PO-1")
    factories.stock(provider, belt, 4)
    factories.stock(other, belt, 2)
    return {
        "motor": motor,
        "belt": belt,
        "central": central,
        "provider": provider,
        "other": other,
        "van": services.van_for(personas.engineer),
        "provider_van": services.van_for(personas.provider_engineer),
    }


def visible_codes(user):
    return set(selectors.warehouses_for(user).values_list("code", flat=True))


# --- scoping ---------------------------------------------------------------------------------


def test_each_role_sees_its_own_warehouses(personas, stock):
    van, provider_van = stock["van"].code, stock["provider_van"].code
    assert {"WH-SH", "WH-B", "WH-C", van, provider_van} <= visible_codes(personas.admin)
    assert visible_codes(personas.provider_admin) == {"WH-B", provider_van}
    assert visible_codes(personas.parts_keeper) == {"WH-SH", van}
    assert visible_codes(personas.engineer) == {van}
    assert visible_codes(personas.customer_user_a) == set()


def test_warehouse_list_is_scoped(client_for, personas, stock):
    keeper_page = client_for(personas.parts_keeper).get(reverse("inventory:warehouse_list")).content.decode()
    assert "WH-SH" in keeper_page and "WH-B" not in keeper_page
    provider_page = client_for(personas.provider_admin).get(reverse("inventory:warehouse_list")).content.decode()
    assert "WH-B" in provider_page and "WH-SH" not in provider_page and "WH-C" not in provider_page


def test_warehouse_list_filters_by_kind_searches_and_exports(client_for, personas, stock):
    client = client_for(personas.parts_keeper)
    vans = client.get(reverse("inventory:warehouse_list"), {"kind": WarehouseKind.VAN}).content.decode()
    assert stock["van"].code in vans and "WH-SH" not in vans
    found = client.get(reverse("inventory:warehouse_list"), {"q": "shang"}).content.decode()
    assert "WH-SH" in found and stock["van"].code not in found
    export = client.get(reverse("inventory:warehouse_list"), {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert {row[0] for row in rows[1:]} == {"WH-SH", stock["van"].code}


@pytest.mark.parametrize("name", ["warehouse_list", "stock_list", "receive", "scrap", "labels"])
def test_customers_may_not_open_the_desk(client_for, personas, stock, name):
    assert client_for(personas.customer_user_a).get(reverse(f"inventory:{name}")).status_code == 403


@pytest.mark.parametrize("who", ["customer_user_a", "other_provider_admin", "provider_admin"])
def test_another_organisations_warehouse_is_hidden(client_for, personas, stock, who):
    client = client_for(getattr(personas, who))
    central = stock["central"]
    expected = 403 if who == "customer_user_a" else 404
    assert client.get(reverse("inventory:warehouse_detail", args=[central.pk])).status_code == expected
    assert client.get(reverse("inventory:warehouse_edit", args=[central.pk])).status_code == expected
    response = client.post(reverse("inventory:bin_create", args=[central.pk]), {"code": "A1"})
    assert response.status_code in (403, 404)
    assert not Bin.objects.exists()


def test_warehouse_detail_shows_stock_and_ledger(client_for, personas, stock):
    response = client_for(personas.parts_keeper).get(reverse("inventory:warehouse_detail", args=[stock["central"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "MOTOR-1" in page and "PO-1" in page
    assert ">10<" in page  # on hand as people write it, not 10.000


def test_stock_list_is_scoped_filters_and_exports(client_for, personas, stock):
    factories.stock(stock["central"], stock["belt"], 1)
    client = client_for(personas.parts_keeper)
    page = client.get(reverse("inventory:stock_list")).content.decode()
    assert "MOTOR-1" in page and "WH-B" not in page
    belts = client.get(reverse("inventory:stock_list"), {"q": "belt"}).content.decode()
    assert "BELT-1" in belts and "MOTOR-1" not in belts
    StockLevel.objects.create(warehouse=stock["central"], part=stock["motor"], minimum=20, maximum=40)
    short = client.get(reverse("inventory:stock_list"), {"below_minimum": "on"}).content.decode()
    assert "MOTOR-1" in short and "BELT-1" not in short
    export = client.get(reverse("inventory:stock_list"), {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert sorted((row[0], row[1]) for row in rows[1:]) == [("WH-SH", "BELT-1"), ("WH-SH", "MOTOR-1")]
    provider = client_for(personas.provider_admin).get(reverse("inventory:stock_list")).content.decode()
    assert "BELT-1" in provider and "MOTOR-1" not in provider


def test_part_stock_page_shows_only_visible_ledger_rows(client_for, personas, stock):
    factories.stock(stock["central"], stock["belt"], 3, reference="PO-OURS")
    client = client_for(personas.parts_keeper)
    response = client.get(reverse("inventory:part_stock", args=[stock["belt"].pk]))
    assert response.status_code == 200
    assert [move.reference for move in response.context["objects"]] == ["PO-OURS"]
    assert "WH-B" not in response.content.decode()


def test_unit_history_page_and_its_scope(client_for, personas, stock):
    drive = factories.part(part_number="DRIVE-1", name="Drive", tracking=Tracking.SERIAL)
    factories.stock(stock["central"], drive, 2, serials=["S1", "S2"])
    unit = SerialUnit.objects.get(serial="S1")
    response = client_for(personas.parts_keeper).get(reverse("inventory:unit_detail", args=[unit.pk]))
    assert response.status_code == 200
    assert "WH-SH" in response.content.decode()
    assert client_for(personas.provider_admin).get(reverse("inventory:unit_detail", args=[unit.pk])).status_code == 404


# --- warehouses, keepers, bins ---------------------------------------------------------------


def test_keeper_creates_a_warehouse_of_his_company_only(client_for, personas):
    client = client_for(personas.parts_keeper)
    form = client.get(reverse("inventory:warehouse_create")).context["form"]
    assert list(form.fields["organisation"].queryset) == [personas.own]
    response = client.post(
        reverse("inventory:warehouse_create"),
        {"organisation": personas.provider.pk, "kind": "provider", "code": "X-1", "name": "Sneaky"},
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    response = client.post(
        reverse("inventory:warehouse_create"),
        {"organisation": personas.own.pk, "kind": "regional", "code": "wh-bj", "name": "Beijing"},
    )
    assert response.status_code == 302
    assert Warehouse.objects.get(code="WH-BJ").organisation == personas.own
    assert not Warehouse.objects.filter(code="X-1").exists()


def test_provider_admin_creates_his_providers_warehouse(client_for, personas):
    client = client_for(personas.provider_admin)
    response = client.post(
        reverse("inventory:warehouse_create"),
        {"organisation": personas.provider.pk, "kind": "provider", "code": "B-2", "name": "Second"},
    )
    assert response.status_code == 302
    assert Warehouse.objects.get(code="B-2").organisation == personas.provider


def test_dispatcher_may_look_but_not_create(client_for, personas, stock):
    client = client_for(personas.dispatcher)
    assert client.get(reverse("inventory:warehouse_list")).status_code == 200
    assert client.get(reverse("inventory:warehouse_create")).status_code == 403
    assert client.get(reverse("inventory:warehouse_edit", args=[stock["central"].pk])).status_code == 403


def test_edit_keepers_and_bins(client_for, personas, stock):
    central = stock["central"]
    client = client_for(personas.parts_keeper)
    response = client.post(
        reverse("inventory:warehouse_edit", args=[central.pk]),
        {"code": "WH-SH", "name": "Shanghai hub", "is_active": "on"},
    )
    assert response.status_code == 302
    central.refresh_from_db()
    assert central.name == "Shanghai hub"
    response = client.post(
        reverse("inventory:warehouse_keepers", args=[central.pk]), {"keepers": [personas.engineer.pk]}
    )
    assert response.status_code == 200  # not a keeper: not a choice
    assert not central.keepers.exists()
    response = client.post(
        reverse("inventory:warehouse_keepers", args=[central.pk]), {"keepers": [personas.parts_keeper.pk]}
    )
    assert response.status_code == 302
    assert list(central.keepers.all()) == [personas.parts_keeper]
    assert client.post(reverse("inventory:bin_create", args=[central.pk]), {"code": "a-01"}).status_code == 302
    duplicate = client.post(reverse("inventory:bin_create", args=[central.pk]), {"code": "A-01"})
    assert "code" in duplicate.context["form"].errors
    assert list(central.bins.values_list("code", flat=True)) == ["A-01"]


# --- receive and scrap -----------------------------------------------------------------------


def receive_data(stock, **changes):
    data = {"warehouse": stock["central"].pk, "part": "motor-1", "quantity": "3", "unit_cost": "7", "reference": "PO-2"}
    return {**data, **changes}


def test_keeper_receives_stock_through_the_page(client_for, personas, stock):
    response = client_for(personas.parts_keeper).post(reverse("inventory:receive"), receive_data(stock))
    assert response.status_code == 302
    balance = StockBalance.objects.get(warehouse=stock["central"], part=stock["motor"])
    assert balance.on_hand == Decimal("13")
    move = StockMove.objects.get(reference="PO-2")
    assert (move.reason, move.actor, move.unit_cost) == (MoveReason.RECEIPT, personas.parts_keeper, Decimal("7"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"unit_cost": "cheap"}, "unit_cost"),
        ({"part": "NOPE"}, "part"),
        ({"part": "DRIVE-1", "quantity": "2", "serials": "S1"}, "serials"),
        ({"warehouse": "0"}, "warehouse"),
    ],
)
def test_bad_receipt_names_the_field_and_writes_nothing(client_for, personas, stock, changes, field):
    factories.part(part_number="DRIVE-1", name="Drive", tracking=Tracking.SERIAL)
    moves, units = StockMove.objects.count(), SerialUnit.objects.count()
    response = client_for(personas.parts_keeper).post(reverse("inventory:receive"), receive_data(stock, **changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert (StockMove.objects.count(), SerialUnit.objects.count()) == (moves, units)


def test_receipt_into_another_organisations_warehouse_is_refused(client_for, personas, stock):
    response = client_for(personas.parts_keeper).post(
        reverse("inventory:receive"), receive_data(stock, warehouse=stock["provider"].pk)
    )
    assert "warehouse" in response.context["form"].errors
    assert not StockMove.objects.filter(reference="PO-2").exists()


def test_dispatcher_may_not_receive(client_for, personas, stock):
    response = client_for(personas.dispatcher).post(reverse("inventory:receive"), receive_data(stock))
    assert response.status_code == 403
    assert not StockMove.objects.filter(reference="PO-2").exists()


def test_scrap_needs_a_reason_and_moves_stock_out(client_for, personas, stock):
    client = client_for(personas.parts_keeper)
    data = {"warehouse": stock["central"].pk, "part": "MOTOR-1", "quantity": "2", "grade": "good"}
    response = client.post(reverse("inventory:scrap"), data)
    assert "note" in response.context["form"].errors
    response = client.post(reverse("inventory:scrap"), {**data, "quantity": "11", "note": "Broken"})
    assert "quantity" in response.context["form"].errors
    response = client.post(reverse("inventory:scrap"), {**data, "note": "Dropped"})
    assert response.status_code == 302
    assert StockBalance.objects.get(warehouse=stock["central"], part=stock["motor"]).on_hand == Decimal("8")


def test_part_form_sets_tracking(client_for, personas):
    response = client_for(personas.parts_keeper).post(
        reverse("inventory:part_create"), {"part_number": "LOT-1", "name": "Grease", "unit": "kg", "tracking": "lot"}
    )
    assert response.status_code == 302
    assert (
        services.PART_FIELDS and selectors.parts_for(personas.parts_keeper).get(part_number="LOT-1").tracking == "lot"
    )


# --- labels and menu -------------------------------------------------------------------------


def test_labels_of_bins_and_parts(client_for, personas, stock):
    services.create_bin(stock["central"], actor=personas.parts_keeper, code="A-01")
    client = client_for(personas.parts_keeper)
    response = client.get(reverse("inventory:labels"), {"warehouse": stock["central"].pk, "parts": "motor-1, NOPE"})
    assert response.status_code == 200
    payloads = [label.payload for label in response.context["labels"]]
    assert payloads == ["BIN:WH-SH/A-01", "PART:MOTOR-1"]
    assert response.context["missing"] == ["NOPE"]
    assert response.content.decode().count("<svg") == 2
    hidden = client.get(reverse("inventory:labels"), {"warehouse": stock["provider"].pk})
    assert "warehouse" in hidden.context["form"].errors
    assert hidden.context["labels"] == []


def test_menu_offers_stock_to_those_who_see_it(client_for, personas):
    url = reverse("inventory:stock_list")
    assert url in client_for(personas.parts_keeper).get("/").content.decode()
    assert url not in client_for(personas.agent).get("/").content.decode()


def test_tracking_of_a_part_in_stock_cannot_change(client_for, personas, stock):
    motor = stock["motor"]
    response = client_for(personas.parts_keeper).post(
        reverse("inventory:part_edit", args=[motor.pk]),
        {"part_number": "MOTOR-1", "name": "Servo motor", "unit": "pcs", "tracking": "serial", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "tracking" in response.context["form"].errors
    motor.refresh_from_db()
    assert motor.tracking == Tracking.NONE


def test_part_list_links_to_the_stock_for_those_who_see_it(client_for, personas, stock):
    url = reverse("inventory:part_stock", args=[stock["motor"].pk])
    assert url in client_for(personas.parts_keeper).get(reverse("inventory:part_list")).content.decode()
    assert url not in client_for(personas.agent).get(reverse("inventory:part_list")).content.decode()
