"""`fsm stock_check`: the balances add up to the ledger, and a corrupted one is reported."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fieldservice.inventory.models import StockBalance
from tests import factories


def check():
    out = StringIO()
    call_command("stock_check", stdout=out)
    return out.getvalue()


def test_clean_ledger_reports_no_difference(personas):
    central = factories.warehouse(personas.own, code="WH-SH")
    factories.stock(central, factories.part(part_number="MOTOR-1"), 5)
    assert check().strip() == "0 balances differ"


def test_a_corrupted_balance_is_reported_and_exits_non_zero(personas):
    central = factories.warehouse(personas.own, code="WH-SH")
    part = factories.part(part_number="MOTOR-1")
    factories.stock(central, part, 5)
    factories.stock(central, factories.part(part_number="BELT-1"), 2)
    # Someone edits a balance behind the ledger's back.
    StockBalance.objects.filter(warehouse=central, part=part).update(on_hand=Decimal("7"))
    out = StringIO()
    with pytest.raises(CommandError, match="1 balance differs"):
        call_command("stock_check", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines == ["WH-SH MOTOR-1 (good): balance on hand 7, reserved 0; ledger on hand 5, reserved 0"]


def test_a_missing_balance_row_is_reported(personas):
    central = factories.warehouse(personas.own, code="WH-SH")
    part = factories.part(part_number="MOTOR-1")
    factories.stock(central, part, 5)
    StockBalance.objects.filter(warehouse=central, part=part).delete()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("stock_check", stdout=out)
    assert "no balance row" in out.getvalue()
