"""Equipment from a spreadsheet: its columns and how a row becomes a registered machine. The
customer and site a row names are found as the customer importers find them, through the
importing user's selectors; `core.importing` reads the file and runs the rows."""

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.assets import services as asset_services
from fieldservice.assets.selectors import product_models_for
from fieldservice.core.importing import DATE_HELP, Column, Importer, Lookups, Row, call_service
from fieldservice.customers.importers import find_customer, find_site

EQUIPMENT_COLUMNS = (
    Column(
        "model code",
        "型号",
        required=True,
        aliases=("model", "型号编码", "机型"),
        help=gettext_lazy("The code of an existing product model."),
        example_en="HR-160",
    ),
    Column(
        "serial",
        "序列号",
        required=True,
        aliases=("serial number", "serial no", "出厂编号", "机身编号"),
        help=gettext_lazy("Unique per product model."),
        example_en="HR160-2405-0001",
    ),
    Column("lot", "批次", aliases=("lot number", "batch", "批号"), example_en="2024-B05", max_length=64),
    Column(
        "customer code",
        "客户编码",
        required=True,
        aliases=("客户代码", "客户编号"),
        help=gettext_lazy("The code of an existing customer."),
        example_en="NB-0001",
    ),
    Column(
        "site name",
        "站点名称",
        aliases=("site", "地点", "地点名称"),
        help=gettext_lazy("The name of one of that customer's sites."),
        example_en="Plant 1",
        example_zh="一厂",
    ),
    Column(
        "installed on",
        "安装日期",
        aliases=("installation date", "install date", "安装时间"),
        help=DATE_HELP,
        example_en=dt.date(2024, 5, 10),
        is_date=True,
    ),
    Column(
        "warranty start",
        "保修开始",
        aliases=("warranty starts on", "保修开始日期"),
        help=gettext_lazy("Blank: the installation date."),
        is_date=True,
    ),
    Column(
        "warranty end",
        "保修结束",
        aliases=("warranty ends on", "保修结束日期", "保修截止", "保修到期"),
        help=gettext_lazy("Blank: the start plus the model's warranty months."),
        is_date=True,
    ),
)

# Service field name -> column, so a service's error lands on the right column.
EQUIPMENT_FIELDS = {
    "product_model": "model code",
    "serial_number": "serial",
    "lot_number": "lot",
    "customer": "customer code",
    "site": "site name",
    "installed_on": "installed on",
    "warranty_starts_on": "warranty start",
    "warranty_ends_on": "warranty end",
}


def find_product_model(lookups: Lookups, row: Row, column: str):
    code = row.text(column).upper()
    if not code:
        return None
    model = lookups.get("model", code, lambda: product_models_for(lookups.user).filter(code=code).first())
    if model is None:
        row.error(column, _("No product model with code “%(code)s”.") % {"code": code})
    return model


def import_equipment(user, row: Row, lookups: Lookups):
    product_model = find_product_model(lookups, row, "model code")
    customer = find_customer(lookups, row, "customer code")
    site = find_site(lookups, row, "site name", customer)
    fields = {
        "serial_number": row.text("serial"),
        "lot_number": row.text("lot"),
        "installed_on": row.date("installed on"),
        "warranty_starts_on": row.date("warranty start"),
        "warranty_ends_on": row.date("warranty end"),
    }
    row.check()
    return call_service(
        EQUIPMENT_FIELDS,
        asset_services.register_equipment,
        actor=user,
        product_model=product_model,
        customer=customer,
        site=site,
        **fields,
    )


EQUIPMENT = Importer(
    kind="equipment",
    label=gettext_lazy("Equipment"),
    columns=EQUIPMENT_COLUMNS,
    handler=import_equipment,
    summary_columns=("model code", "serial"),
)
