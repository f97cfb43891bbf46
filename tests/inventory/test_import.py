"""Opening stock from a spreadsheet: a dry run shows what would be received and writes nothing;
applying writes one receipt per row with the reference "opening stock"."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from fieldservice.core import importing
from fieldservice.inventory.choices import MoveReason, Tracking
from fieldservice.inventory.models import SerialUnit, StockBalance, StockMove
from tests import factories

HEADER = ["warehouse code", "part number", "quantity", "unit cost", "lot", "serial numbers"]


def xlsx(rows):
    workbook = Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("stock.xlsx", buffer.getvalue())


@pytest.fixture
def catalogue(personas):
    return {
        "central": factories.warehouse(personas.own, code="WH-SH"),
        "provider": factories.warehouse(personas.provider, code="WH-B"),
        "motor": factories.part(part_number="MOTOR-1", name="Motor"),
        "drive": factories.part(part_number="DRIVE-1", name="Drive", tracking=Tracking.SERIAL),
    }


ROWS = [
    ["wh-sh", "motor-1", 10, 12.5, "", ""],
    ["WH-SH", "DRIVE-1", 2, "", "", "D1, D2"],
]


def run(user, rows, *, dry_run, mode=importing.ImportMode.ALL_OR_NOTHING):
    return importing.run_import(user, "opening_stock", xlsx(rows), mode, dry_run=dry_run)


def test_dry_run_writes_nothing(personas, catalogue):
    result = run(personas.parts_keeper, ROWS, dry_run=True)
    assert (result.ok_count, result.error_count, result.applied) == (2, 0, False)
    assert not StockMove.objects.exists()
    assert not SerialUnit.objects.exists()
    assert not StockBalance.objects.filter(on_hand__gt=0).exists()


def test_applying_writes_opening_receipts(personas, catalogue):
    result = run(personas.parts_keeper, ROWS, dry_run=False)
    assert result.applied and result.ok_count == 2
    moves = StockMove.objects.order_by("pk")
    assert {move.reference for move in moves} == {"opening stock"}
    assert {move.reason for move in moves} == {MoveReason.RECEIPT}
    assert moves.count() == 3  # the motor, then one row per drive unit
    assert StockBalance.objects.get(warehouse=catalogue["central"], part=catalogue["motor"]).on_hand == Decimal("10")
    assert set(SerialUnit.objects.values_list("serial", flat=True)) == {"D1", "D2"}
    catalogue["motor"].refresh_from_db()
    assert catalogue["motor"].average_cost == Decimal("12.5000")


def test_bad_rows_are_reported_on_their_column_and_nothing_is_written(personas, catalogue):
    rows = [
        *ROWS,
        ["WH-SH", "MOTOR-1", 0, "", "", ""],
        ["WH-SH", "NOPE", 1, "", "", ""],
        ["WH-B", "MOTOR-1", 1, "", "", ""],  # provider B's: the keeper does not see it
        ["WH-SH", "DRIVE-1", 2, "", "", "D3"],
        ["WH-SH", "DRIVE-1", 1, "", "", "D1"],  # repeats a serial of an earlier row
    ]
    result = run(personas.parts_keeper, rows, dry_run=False)
    errors = {row.number: [error.column for error in row.errors] for row in result.rows if row.errors}
    assert errors == {
        4: ["quantity"],
        5: ["part number"],
        6: ["warehouse code"],
        7: ["serial numbers"],
        8: ["serial numbers"],
    }
    assert not result.applied
    assert not StockMove.objects.exists()


def test_skipping_bad_rows_keeps_the_good_ones(personas, catalogue):
    result = run(
        personas.parts_keeper,
        [*ROWS, ["WH-SH", "MOTOR-1", "abc", "", "", ""]],
        dry_run=False,
        mode=importing.ImportMode.SKIP_INVALID,
    )
    assert (result.ok_count, result.error_count, result.applied) == (2, 1, True)
    assert StockMove.objects.count() == 3


def test_import_page_previews_and_applies(client_for, personas, catalogue):
    client = client_for(personas.parts_keeper)
    preview = client.post("/import/", {"kind": "opening_stock", "file": xlsx(ROWS[:1]), "mode": "all_or_nothing"})
    assert preview.status_code == 200
    assert not StockMove.objects.exists()
    form = preview.context["apply_form"]
    applied = client.post("/import/", {"token": form.initial["token"], "mode": form.initial["mode"]})
    assert applied.status_code in (200, 302)
    assert StockMove.objects.filter(reference="opening stock").count() == 1
