"""Defective parts owed: recorded into the engineer's van, seen by the right people, brought back."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fieldservice.core.errors import DomainError
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import DefectStatus, Grade, MoveReason, Tracking, TransferKind, UnitStatus
from fieldservice.inventory.models import DefectivePart, SerialUnit, StockBalance, StockMove
from fieldservice.inventory.services import Line, post
from tests import factories
from tests.inventory.defect_helpers import owed, returned

LIST = "/parts/defects/"
MINE = "/parts/my-stock/owed/"


def defective(warehouse, part) -> Decimal:
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=Grade.DEFECTIVE).first()
    return row.on_hand if row else Decimal(0)


def test_a_removed_part_is_defective_stock_in_the_van_and_owed(personas):
    part = factories.part()
    defect = owed(personas.engineer, part, quantity=2, serial="OLD-1", order_number="WO-9", order_id=9)
    van = services.van_for(personas.engineer)
    assert (defect.status, defect.engineer, defect.warehouse, defect.quantity) == (
        DefectStatus.OWED,
        personas.engineer,
        van,
        Decimal(2),
    )
    assert defective(van, part) == 2
    move = StockMove.objects.get(reason=MoveReason.REMOVED_FROM_MACHINE)
    assert (move.document_kind, move.work_order_id, move.reference, move.equipment_id) == ("work_order", 9, "WO-9", 7)
    assert services.drift() == []


def test_only_the_engineer_or_a_keeper_records_into_a_van(personas):
    part = factories.part()
    van = services.van_for(personas.engineer)
    for stranger in (personas.customer_user_a, personas.provider_admin, personas.dispatcher):
        with pytest.raises(PermissionDenied):
            services.record_removed_part(actor=stranger, van=van, part=part, quantity=1)
    keeper_made = services.record_removed_part(actor=personas.parts_keeper, van=van, part=part, quantity=1)
    assert keeper_made.engineer == personas.engineer
    store = factories.warehouse(personas.own)
    with pytest.raises(Exception) as caught:
        services.record_removed_part(actor=personas.parts_keeper, van=store, part=part, quantity=1)
    assert caught.value.error_dict["warehouse"][0].code == "invalid_choice"
    assert DefectivePart.objects.count() == 1


def test_a_fitted_unit_comes_back_and_travels_with_its_part(personas):
    part = factories.part(tracking=Tracking.SERIAL)
    store = factories.warehouse(personas.own)
    factories.fill_van(personas.engineer, part, 1, serials="U-1", source=store)
    van = services.van_for(personas.engineer)
    unit = SerialUnit.objects.get(serial="U-1")
    post([Line(van, part, MoveReason.CONSUMPTION, quantity=Decimal(-1), unit=unit)], actor=personas.engineer)
    defect = returned(personas.engineer, personas.parts_keeper, store, part, serial="U-1")
    unit.refresh_from_db()
    assert defect.unit == unit and defect.status == DefectStatus.RETURNED and defect.warehouse == store
    assert (unit.warehouse, unit.grade, unit.status) == (store, Grade.DEFECTIVE, UnitStatus.IN_STOCK)
    assert defective(store, part) == 1 and defective(van, part) == 0
    assert services.drift() == []


def test_taking_back_a_removal_only_while_owed(personas):
    part = factories.part()
    store = factories.warehouse(personas.own)
    defect = owed(personas.engineer, part)
    services.cancel_removed_part(defect, actor=personas.engineer)
    assert not DefectivePart.objects.exists()
    assert defective(services.van_for(personas.engineer), part) == 0
    on_its_way = owed(personas.engineer, part)
    services.request_transfer(
        actor=personas.engineer,
        kind=TransferKind.RETURN,
        source=services.van_for(personas.engineer),
        destination=store,
        defects=[on_its_way],
    )
    with pytest.raises(DomainError):
        services.cancel_removed_part(on_its_way, actor=personas.engineer)
    assert DefectivePart.objects.get().status == DefectStatus.OWED
    assert services.drift() == []


def test_who_sees_which_defects(personas):
    own = owed(personas.engineer)
    theirs = owed(personas.provider_engineer)
    other = factories.engineer(personas.other_provider)
    elsewhere = owed(other)

    def seen(user):
        return set(selectors.defects_for(user))

    assert seen(personas.admin) == {own, theirs, elsewhere}
    assert seen(personas.parts_keeper) == {own}
    assert seen(personas.provider_admin) == {theirs}
    assert seen(personas.other_provider_admin) == {elsewhere}
    assert seen(personas.engineer) == {own}
    assert seen(personas.provider_engineer) == {theirs}
    assert seen(personas.customer_user_a) == set()


def test_the_keepers_list_oldest_first_with_filters_and_export(personas, client_for):
    now = timezone.now()
    young = owed(personas.engineer, factories.part(part_number="YOUNG-1"), order_number="WO-Y")
    old = owed(personas.engineer, factories.part(part_number="OLD-1"), order_number="WO-O")
    DefectivePart.objects.filter(pk=old.pk).update(removed_at=now - dt.timedelta(days=12))
    helper = factories.engineer(personas.own)
    hers = owed(helper, factories.part(part_number="HERS-1"))
    owed(personas.provider_engineer, factories.part(part_number="PROV-1"))
    client = client_for(personas.parts_keeper)
    page = client.get(LIST).content.decode()
    assert page.index("OLD-1") < page.index("YOUNG-1")
    assert "HERS-1" in page and "PROV-1" not in page
    assert "12" in page  # the age of the old part in days
    only_helper = client.get(LIST, {"engineer": helper.pk}).content.decode()
    assert "HERS-1" in only_helper and "OLD-1" not in only_helper
    DefectivePart.objects.filter(pk=hers.pk).update(status=DefectStatus.RETURNING)
    returning = client.get(LIST, {"status": "returning"}).content.decode()
    assert "HERS-1" in returning and "OLD-1" not in returning
    rows = list(load_workbook(BytesIO(client.get(LIST, {"export": "xlsx"}).content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Engineer", "Part number", "Part")
    assert [row[1] for row in rows[1:]] == ["OLD-1", "YOUNG-1", "HERS-1"]
    assert young.pk != old.pk


def test_a_provider_admin_sees_his_engineers_only_and_customers_nothing(personas, client_for):
    owed(personas.engineer, factories.part(part_number="OURS-1"))
    owed(personas.provider_engineer, factories.part(part_number="PROV-1"))
    page = client_for(personas.provider_admin).get(LIST).content.decode()
    assert "PROV-1" in page and "OURS-1" not in page
    assert "PROV-1" not in client_for(personas.other_provider_admin).get(LIST).content.decode()
    assert client_for(personas.customer_user_a).get(LIST).status_code == 403
    assert client_for(personas.engineer).get(LIST).status_code == 403


def test_what_i_owe(personas, client_for):
    mine = owed(personas.engineer, factories.part(part_number="MINE-1"), order_number="WO-M")
    DefectivePart.objects.filter(pk=mine.pk).update(removed_at=timezone.now() - dt.timedelta(days=3))
    owed(personas.provider_engineer, factories.part(part_number="NOT-MINE"))
    page = client_for(personas.engineer).get(reverse("inventory:my_defects")).content.decode()
    assert reverse("inventory:my_defects") == MINE
    assert "MINE-1" in page and "WO-M" in page and "3 days" in page and "NOT-MINE" not in page
    assert client_for(personas.customer_user_a).get(MINE).status_code == 403


def test_the_api_lists_what_the_user_may_see(personas, api_client_for):
    owed(personas.engineer, factories.part(part_number="OURS-1"))
    owed(personas.provider_engineer, factories.part(part_number="PROV-1"))
    body = api_client_for(personas.provider_admin).get("/api/v1/defective-parts").json()
    assert [item["part_number"] for item in body["items"]] == ["PROV-1"]
    assert api_client_for(personas.customer_user_a).get("/api/v1/defective-parts").json()["count"] == 0
