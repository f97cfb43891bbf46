"""Bulk import of customers, sites and equipment from Excel (.xlsx) or CSV files.

Every row goes through the same services a form would use, inside one transaction with a
savepoint per row. A dry run therefore reports exactly what applying would do, including
clashes between rows of the same file (the same serial twice), and then rolls it all back.
Lookups (customer code, model code, provider, site) go through the importing user's
selectors, so a row can only point at things that user may see.
"""

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from fieldservice.accounts.models import User
from fieldservice.accounts.selectors import providers_for
from fieldservice.assets import services as asset_services
from fieldservice.assets.selectors import product_models_for
from fieldservice.core.errors import DomainError
from fieldservice.core.listing import sheet_title
from fieldservice.customers import services as customer_services
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.selectors import customers_for, sites_for

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
EXTENSIONS = (".xlsx", ".csv")


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", gettext_lazy("Customers")
    SITES = "sites", gettext_lazy("Sites")
    EQUIPMENT = "equipment", gettext_lazy("Equipment")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", gettext_lazy("Apply only if every row is valid")
    SKIP_INVALID = "skip_invalid", gettext_lazy("Apply the valid rows, skip the bad ones")


class ImportFileError(Exception):
    """The file as a whole cannot be read (wrong type, broken workbook, missing columns)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str  # the English header, lower case; also how errors name the column
    zh: str  # the Chinese header
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: Any = ""
    example_en: Any = ""
    example_zh: Any = None  # None: same as example_en
    is_date: bool = False
    max_length: int | None = None

    def example(self, chinese: bool) -> Any:
        return self.example_zh if chinese and self.example_zh is not None else self.example_en


DATE_HELP = gettext_lazy("A date: an Excel date cell or text like 2025-03-01.")

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.CUSTOMERS: (
        Column(
            "code",
            "客户编码",
            aliases=("customer code", "编码", "客户代码", "客户编号"),
            help=gettext_lazy("Leave blank to number the customer automatically."),
            example_en="NB-0001",
        ),
        Column(
            "name",
            "客户名称",
            required=True,
            aliases=("customer name", "名称", "客户"),
            example_en="Ningbo Example Plastics Co., Ltd.",
            example_zh="宁波示例塑料有限公司",
        ),
        Column(
            "kind",
            "类型",
            aliases=("customer kind", "type", "客户类型"),
            help=gettext_lazy("company or person (公司 / 个人); blank means company."),
            example_en="company",
            example_zh="公司",
        ),
        Column(
            "tier",
            "等级",
            aliases=("customer tier", "客户等级", "级别"),
            help=gettext_lazy("strategic, key or standard (战略 / 重点 / 标准); blank means standard."),
            example_en="standard",
            example_zh="标准",
        ),
        Column("industry", "行业", aliases=("所属行业",), example_en="plastics", example_zh="注塑"),
        Column(
            "contact name",
            "联系人",
            aliases=("contact", "联系人姓名"),
            help=gettext_lazy("With a contact phone, adds the customer's first contact."),
            example_en="Zhang Wei",
            example_zh="张伟",
        ),
        Column(
            "contact phone",
            "联系电话",
            aliases=("phone", "mobile", "电话", "手机", "手机号", "联系人电话"),
            help=gettext_lazy("A Chinese mobile or landline number; other countries with their +code."),
            example_en="13957412345",
        ),
        Column(
            "contact email",
            "联系邮箱",
            aliases=("email", "e-mail", "邮箱", "电子邮件"),
            example_en="zhangwei@example.com",
        ),
        Column(
            "provider",
            "服务商",
            aliases=("service provider", "服务商名称"),
            help=gettext_lazy("The name of the service provider organisation that serves the customer, if any."),
        ),
    ),
    ImportKind.SITES: (
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
            required=True,
            aliases=("site", "name", "地点", "地点名称", "厂区"),
            example_en="Plant 1",
            example_zh="一厂",
        ),
        Column(
            "address",
            "地址",
            required=True,
            aliases=("详细地址",),
            example_en="No. 1 Example Road, Beilun, Ningbo",
            example_zh="宁波市北仑区示例路1号",
        ),
        Column("province", "省份", aliases=("省",), example_en="Zhejiang", example_zh="浙江省"),
        Column("city", "城市", aliases=("市",), example_en="Ningbo", example_zh="宁波市"),
        Column("district", "区县", aliases=("区", "区/县"), example_en="Beilun", example_zh="北仑区"),
        Column(
            "latitude",
            "纬度",
            aliases=("lat",),
            help=gettext_lazy("Decimal degrees, -90 to 90; give both latitude and longitude or neither."),
            example_en=29.889,
        ),
        Column(
            "longitude",
            "经度",
            aliases=("lng", "lon"),
            help=gettext_lazy("Decimal degrees, -180 to 180."),
            example_en=121.845,
        ),
    ),
    ImportKind.EQUIPMENT: (
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
    ),
}

# Service field name -> column, per service call, so a service's error lands on the right column.
CUSTOMER_FIELDS = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "tier": "tier",
    "industry": "industry",
    "service_provider": "provider",
}
CONTACT_FIELDS = {"name": "contact name", "phone": "contact phone", "email": "contact email"}
SITE_FIELDS = {
    "name": "site name",
    "address": "address",
    "province": "province",
    "city": "city",
    "district": "district",
    "latitude": "latitude",
    "longitude": "longitude",
}
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

KIND_WORDS = {
    "company": CustomerKind.COMPANY,
    "公司": CustomerKind.COMPANY,
    "企业": CustomerKind.COMPANY,
    "person": CustomerKind.PERSON,
    "个人": CustomerKind.PERSON,
}
TIER_WORDS = {
    "strategic": CustomerTier.STRATEGIC,
    "战略": CustomerTier.STRATEGIC,
    "战略客户": CustomerTier.STRATEGIC,
    "key": CustomerTier.KEY,
    "key account": CustomerTier.KEY,
    "重点": CustomerTier.KEY,
    "重点客户": CustomerTier.KEY,
    "standard": CustomerTier.STANDARD,
    "标准": CustomerTier.STANDARD,
    "普通": CustomerTier.STANDARD,
    "标准客户": CustomerTier.STANDARD,
}


# --- Results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    column: str | None  # the column key; None for a problem with the row as a whole
    header: str  # the column as written in the file
    message: str


@dataclass
class RowResult:
    number: int  # as in the spreadsheet: the header is row 1
    summary: str
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    kind: str
    mode: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    applied: bool = False  # True when the good rows were written

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def ok_count(self) -> int:
        return sum(1 for row in self.rows if row.ok)

    @property
    def error_count(self) -> int:
        return self.total - self.ok_count

    @property
    def bad_rows(self) -> list[RowResult]:
        return [row for row in self.rows if not row.ok]

    @property
    def created_count(self) -> int:
        return self.ok_count if self.applied else 0

    @property
    def kind_label(self) -> str:
        return str(ImportKind(self.kind).label)


# --- Reading files -----------------------------------------------------------------------


def normalise_header(text: Any) -> str:
    text = re.sub(r"[\s_]+", " ", str(text or "")).strip()
    return text.rstrip("*＊").strip().lower()


def _header_index(kind: str) -> dict[str, Column]:
    index = {}
    for column in COLUMNS[kind]:
        for name in (column.key, column.zh, *column.aliases):
            index.setdefault(normalise_header(name), column)
    return index


def check_upload(upload) -> str:
    """The file's type (".xlsx" or ".csv") if its name and size are acceptable."""
    extension = PurePath(getattr(upload, "name", "") or "").suffix.lower()
    if extension not in EXTENSIONS:
        raise ImportFileError(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is too big (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(MAX_FILE_BYTES)}
        )
    return extension


def _decode(data: bytes) -> str:
    # Excel's "CSV UTF-8" writes a BOM; Chinese Excel's plain "CSV" is GB18030 (GBK).
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff")
            except UnicodeDecodeError:
                break
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file is not UTF-8 or GB18030 text. Save it as “CSV UTF-8” and try again."))


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise ImportFileError(_("The CSV file cannot be read; check its quotes and separators.")) from None


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    invalid = _("The file is not a valid Excel workbook (.xlsx). Open it in Excel and save it as .xlsx again.")
    try:
        # Not data_only: a formula cell is read as its text ("=1+2"), never as the result a
        # spreadsheet program computed; a formula in a name must not turn into something else.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - a broken upload can fail anywhere inside openpyxl/zipfile
        raise ImportFileError(invalid) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(invalid)
        sheet = workbook.worksheets[0]
        # Some writers store a wrong sheet size; without this, read-only mode may stop early.
        sheet.reset_dimensions()
        try:
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                yield [getattr(value, "text", value) for value in row]  # an array formula: its text
        except Exception:  # noqa: BLE001 - e.g. broken XML inside the sheet
            raise ImportFileError(invalid) from None
    finally:
        workbook.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Sheet:
    headers: dict[str, str]  # column key -> header as written in the file
    rows: list[tuple[int, dict[str, Any]]]


def read_sheet(upload, kind: str) -> Sheet:
    """Read the first sheet (or the CSV) into row dicts keyed by column; raise ImportFileError
    when the file as a whole is unusable."""
    extension = check_upload(upload)
    upload.seek(0)
    data = upload.read()
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is too big (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(len(data)), "limit": filesizeformat(MAX_FILE_BYTES)}
        )
    with closing(_xlsx_rows(data) if extension == ".xlsx" else _csv_rows(data)) as raw_rows:
        return _to_sheet(raw_rows, kind)


def _to_sheet(raw_rows: Iterator[list[Any]], kind: str) -> Sheet:
    index = _header_index(kind)
    positions: dict[int, Column] | None = None
    headers: dict[str, str] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(raw_rows, start=1):
        raw = raw[:MAX_COLUMNS]
        if all(_blank(value) for value in raw):
            continue
        if positions is None:
            positions = {}
            unknown = []
            for position, text in enumerate(raw):
                if _blank(text):
                    continue
                column = index.get(normalise_header(text))
                if column is None:
                    unknown.append(str(text).strip())
                elif column.key in headers:
                    raise ImportFileError(_("The column “%(column)s” appears twice.") % {"column": str(text).strip()})
                else:
                    positions[position] = column
                    headers[column.key] = str(text).strip()
            if unknown:
                raise ImportFileError(
                    _("Unknown columns: %(columns)s. Use the column names listed below.")
                    % {"columns": ", ".join(f"“{name}”" for name in unknown)}
                )
            missing = [column.key for column in COLUMNS[kind] if column.required and column.key not in headers]
            if missing:
                raise ImportFileError(
                    _("Required columns are missing: %(columns)s.")
                    % {"columns": ", ".join(f"“{name}”" for name in missing)}
                )
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(n)d rows; split it into smaller files.") % {"n": MAX_ROWS}
            )
        values = {column.key: raw[position] for position, column in positions.items() if position < len(raw)}
        rows.append((number, values))
    if positions is None:
        raise ImportFileError(_("The file is empty."))
    if not rows:
        raise ImportFileError(_("The file has column names but no rows."))
    return Sheet(headers=headers, rows=rows)


# --- Rows --------------------------------------------------------------------------------


class RowInvalidError(Exception):
    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__(errors)
        self.errors = errors


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # Excel stores a phone number or a numeric code typed into a cell as a float.
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


class Row:
    """One data row: typed access to its cells, collecting every problem before any service runs."""

    def __init__(self, kind: str, values: dict[str, Any]):
        self.columns = {column.key: column for column in COLUMNS[kind]}
        self.values = values
        self.errors: list[tuple[str | None, str]] = []

    def error(self, column: str | None, message: str) -> None:
        self.errors.append((column, message))

    def text(self, key: str) -> str:
        text = cell_text(self.values.get(key))
        limit = self.columns[key].max_length
        if limit and len(text) > limit:
            self.error(key, _("At most %(n)d characters.") % {"n": limit})
        if self.columns[key].required and not text:
            self.error(key, _("This field is required."))
        return text

    def date(self, key: str) -> dt.date | None:
        value = self.values.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = cell_text(value)
        if not text:
            return None
        for pattern in DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                try:
                    return dt.date(*(int(part) for part in match.groups()))
                except ValueError:
                    break
        self.error(key, _("“%(value)s” is not a valid date; write it as YYYY-MM-DD.") % {"value": text})
        return None

    def check(self) -> None:
        if self.errors:
            raise RowInvalidError(self.errors)


def _call(fields: dict[str, str], service: Callable, *args, **kwargs):
    """Call a service; its ValidationError becomes row errors on the matching columns."""
    try:
        return service(*args, **kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            errors = [
                (fields.get(name), message if name in fields else f"{name}: {message}")
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        else:
            errors = [(None, message) for message in exc.messages]
        raise RowInvalidError(errors) from None


class Lookups:
    """Finds what rows refer to, through the importing user's selectors, once per value."""

    def __init__(self, user: User):
        self.user = user
        self._cache: dict[tuple[str, str], Any] = {}

    def _get(self, what: str, key: str, find: Callable[[], Any]):
        if (what, key) not in self._cache:
            self._cache[(what, key)] = find()
        return self._cache[(what, key)]

    def customer(self, row: Row, column: str):
        code = row.text(column).upper()
        if not code:
            return None
        customer = self._get("customer", code, lambda: customers_for(self.user).filter(code=code).first())
        if customer is None:
            row.error(column, _("No customer with code “%(code)s”.") % {"code": code})
        return customer

    def product_model(self, row: Row, column: str):
        code = row.text(column).upper()
        if not code:
            return None
        model = self._get("model", code, lambda: product_models_for(self.user).filter(code=code).first())
        if model is None:
            row.error(column, _("No product model with code “%(code)s”.") % {"code": code})
        return model

    def provider(self, row: Row, column: str):
        name = row.text(column)
        if not name:
            return None
        provider = self._get("provider", name, lambda: providers_for(self.user).filter(name__iexact=name).first())
        if provider is None:
            row.error(column, _("No service provider called “%(name)s”.") % {"name": name})
        return provider

    def site(self, row: Row, column: str, customer):
        name = row.text(column)
        if not name or customer is None:
            return None
        site = sites_for(self.user).filter(customer=customer, name=name).first()
        if site is None:
            row.error(
                column,
                _("Customer %(code)s has no site called “%(name)s”.") % {"code": customer.code, "name": name},
            )
        return site


def _choice(text: str, words: dict[str, str], default: str) -> str:
    if not text:
        return default
    # An unknown word goes to the service as it is, so the service's own message explains it.
    return words.get(text.strip().lower(), text)


def import_customer(user: User, row: Row, lookups: Lookups):
    name = row.text("name")
    code = row.text("code")
    kind = _choice(row.text("kind"), KIND_WORDS, CustomerKind.COMPANY)
    tier = _choice(row.text("tier"), TIER_WORDS, CustomerTier.STANDARD)
    provider = lookups.provider(row, "provider")
    industry = row.text("industry")
    contact_name, phone, email = row.text("contact name"), row.text("contact phone"), row.text("contact email")
    row.check()
    fields = {"name": name, "kind": kind, "tier": tier, "industry": industry, "service_provider": provider}
    if code:
        fields["code"] = code
    customer = _call(CUSTOMER_FIELDS, customer_services.create_customer, actor=user, **fields)
    if contact_name or phone or email:
        _call(
            CONTACT_FIELDS,
            customer_services.add_contact,
            customer,
            actor=user,
            name=contact_name,
            phone=phone,
            email=email,
        )
    return customer


def import_site(user: User, row: Row, lookups: Lookups):
    customer = lookups.customer(row, "customer code")
    fields = {key: row.text(column) for key, column in SITE_FIELDS.items()}
    row.check()
    return _call(SITE_FIELDS, customer_services.create_site, customer, actor=user, **fields)


def import_equipment(user: User, row: Row, lookups: Lookups):
    product_model = lookups.product_model(row, "model code")
    customer = lookups.customer(row, "customer code")
    site = lookups.site(row, "site name", customer)
    fields = {
        "serial_number": row.text("serial"),
        "lot_number": row.text("lot"),
        "installed_on": row.date("installed on"),
        "warranty_starts_on": row.date("warranty start"),
        "warranty_ends_on": row.date("warranty end"),
    }
    row.check()
    return _call(
        EQUIPMENT_FIELDS,
        asset_services.register_equipment,
        actor=user,
        product_model=product_model,
        customer=customer,
        site=site,
        **fields,
    )


HANDLERS = {
    ImportKind.CUSTOMERS: import_customer,
    ImportKind.SITES: import_site,
    ImportKind.EQUIPMENT: import_equipment,
}
SUMMARY_COLUMNS = {
    ImportKind.CUSTOMERS: ("code", "name"),
    ImportKind.SITES: ("customer code", "site name"),
    ImportKind.EQUIPMENT: ("model code", "serial"),
}


def run_import(user: User, kind: str, upload, mode: str, *, dry_run: bool) -> ImportResult:
    """Validate every row of `upload` through the services and, unless `dry_run`, keep the
    result: all rows or none (ALL_OR_NOTHING), or the valid rows (SKIP_INVALID).

    The caller checks the IMPORT_DATA capability; the services check the rest per row.
    Raises ImportFileError when the file as a whole is unusable.
    """
    if kind not in ImportKind.values:
        raise ValueError(f"unknown import kind {kind!r}")
    if mode not in ImportMode.values:
        raise ValueError(f"unknown import mode {mode!r}")
    sheet = read_sheet(upload, kind)
    handler = HANDLERS[kind]
    lookups = Lookups(user)
    result = ImportResult(kind=kind, mode=mode, dry_run=dry_run)
    with transaction.atomic():
        for number, values in sheet.rows:
            row = Row(kind, values)
            summary = " · ".join(filter(None, (cell_text(values.get(key)) for key in SUMMARY_COLUMNS[kind])))
            try:
                with transaction.atomic():
                    created = handler(user, row, lookups)
            except RowInvalidError as exc:
                problems = exc.errors
            except PermissionDenied:
                problems = [(None, _("You may not import this row."))]
            except DomainError as exc:
                problems = [(None, exc.message)]
            except DatabaseError:
                # A constraint the services do not check (e.g. a value too long for PostgreSQL).
                problems = [(None, _("The database refused this row; check the lengths and formats of its values."))]
            else:
                problems = []
                summary = str(created)
            result.rows.append(
                RowResult(
                    number=number,
                    summary=summary,
                    errors=[RowError(column, sheet.headers.get(column, column or ""), msg) for column, msg in problems],
                )
            )
        keep = not dry_run and (mode == ImportMode.SKIP_INVALID or result.error_count == 0)
        if not keep:
            transaction.set_rollback(True)
    result.applied = keep and result.ok_count > 0
    return result


# --- Templates and documentation ---------------------------------------------------------


def header_for(column: Column, chinese: bool) -> str:
    name = column.zh if chinese else column.key
    return f"{name}*" if column.required else name


def template_workbook(kind: str, *, chinese: bool) -> bytes:
    """An .xlsx with the header row and one example row for `kind`."""
    workbook = Workbook()
    sheet = workbook.active
    # The sheet is named in the language of the headers; the importer reads the first sheet whatever its name.
    with translation.override("zh-hans" if chinese else "en"):
        sheet.title = sheet_title(ImportKind(kind).label)
    columns = COLUMNS[kind]
    sheet.append([header_for(column, chinese) for column in columns])
    sheet.append([column.example(chinese) for column in columns])
    for position, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=position).column_letter
        sheet.column_dimensions[letter].width = 20
        if column.is_date:
            sheet.cell(row=2, column=position).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def column_docs() -> list[dict[str, Any]]:
    """The accepted columns of each kind, for the import page."""
    return [{"kind": kind, "label": label, "columns": COLUMNS[kind]} for kind, label in ImportKind.choices]
