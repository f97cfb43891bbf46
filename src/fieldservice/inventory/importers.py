"""Opening stock from a spreadsheet: each row is a receipt (`services.receive_stock`) with the
reference "opening stock". `core.importing` reads the file and runs each row in a savepoint, so a
dry run shows exactly what would be received, serial clashes between rows included, and writes
nothing. Warehouses and parts are looked up through the importing user's selectors."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.core.importing import Column, Importer, Lookups, Row, call_service
from fieldservice.inventory import selectors, services

OPENING_REFERENCE = "opening stock"

STOCK_COLUMNS = (
    Column(
        "warehouse code",
        "仓库编码",
        required=True,
        aliases=("warehouse", "仓库", "仓库代码"),
        example_en="WH-SH",
    ),
    Column(
        "part number",
        "备件编号",
        required=True,
        aliases=("part", "part no", "备件号", "物料编号", "料号"),
        example_en="HR-SCREW-40",
    ),
    Column("quantity", "数量", required=True, aliases=("qty", "库存数量"), example_en="10"),
    Column(
        "unit cost",
        "单价",
        aliases=("cost", "price", "成本", "单位成本"),
        help=gettext_lazy("The price of one unit; blank keeps the part's average cost."),
        example_en="12.50",
    ),
    Column(
        "lot",
        "批次",
        aliases=("lot number", "batch", "批号"),
        help=gettext_lazy("For a part tracked by lot."),
        max_length=64,
    ),
    Column(
        "serial numbers",
        "序列号",
        aliases=("serials", "serial number", "序列号列表"),
        help=gettext_lazy("For a part tracked by serial number: one per unit, separated by commas or spaces."),
    ),
)

# Service field name -> column, so a service's error lands on the right column.
STOCK_FIELDS = {
    "warehouse": "warehouse code",
    "part": "part number",
    "quantity": "quantity",
    "unit_cost": "unit cost",
    "lot": "lot",
    "serials": "serial numbers",
}


def find_warehouse(lookups: Lookups, row: Row, column: str):
    code = row.text(column).upper()
    if not code:
        return None
    warehouse = lookups.get("warehouse", code, lambda: selectors.warehouses_for(lookups.user).filter(code=code).first())
    if warehouse is None:
        row.error(column, _("No warehouse with code “%(code)s”.") % {"code": code})
    return warehouse


def find_part(lookups: Lookups, row: Row, column: str):
    number = row.text(column)
    if not number:
        return None
    part = lookups.get(
        "part", number.upper(), lambda: selectors.parts_for(lookups.user).filter(part_number__iexact=number).first()
    )
    if part is None:
        row.error(column, _("No part with number “%(number)s”.") % {"number": number})
    return part


def import_opening_stock(user, row: Row, lookups: Lookups):
    warehouse = find_warehouse(lookups, row, "warehouse code")
    part = find_part(lookups, row, "part number")
    quantity = row.text("quantity")
    unit_cost = row.text("unit cost")
    lot = row.text("lot")
    serials = row.text("serial numbers")
    row.check()
    moves = call_service(
        STOCK_FIELDS,
        services.receive_stock,
        warehouse,
        actor=user,
        part=part,
        quantity=quantity,
        unit_cost=unit_cost or None,
        lot=lot,
        serials=serials,
        reference=OPENING_REFERENCE,
    )
    return moves[0]


OPENING_STOCK = Importer(
    kind="opening_stock",
    label=gettext_lazy("Opening stock"),
    columns=STOCK_COLUMNS,
    handler=import_opening_stock,
    summary_columns=("warehouse code", "part number", "quantity"),
)
