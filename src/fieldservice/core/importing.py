"""Bulk import from Excel (.xlsx) or CSV files: reading, checking and running the rows.

What can be imported is registered by the app that owns it (`register_importer` in its
AppConfig.ready): the columns, and a handler that turns one row into a call of that app's
services. Every row goes through the same services a form would use, inside one transaction with
a savepoint per row. A dry run therefore reports exactly what applying would do, including
clashes between rows of the same file (the same serial twice), and then rolls it all back.
Handlers look up what a row names through the importing user's selectors, so a row can only
point at things that user may see.
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

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from fieldservice.core.errors import DomainError
from fieldservice.core.listing import sheet_title

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 60
EXTENSIONS = (".xlsx", ".csv")


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


@dataclass(frozen=True)
class Importer:
    """One kind of thing that can be imported, registered by the app that owns it."""

    kind: str  # names it in the page's form and in the template's URL
    label: Any
    columns: tuple[Column, ...]
    # handler(user, row, lookups) creates the row's object through the services and returns it;
    # it raises RowInvalidError (row.check(), call_service) for a row that cannot be imported.
    handler: Callable[[Any, "Row", "Lookups"], Any]
    summary_columns: tuple[str, ...]  # what names a row in the result until it is created


# In registration order, which is the order the page offers them in.
_IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    known = _IMPORTERS.get(importer.kind)
    if known is not None and known is not importer:
        raise ImproperlyConfigured(f"Import kind {importer.kind!r} is registered twice.")
    _IMPORTERS[importer.kind] = importer


def importers() -> list[Importer]:
    return list(_IMPORTERS.values())


def find_importer(kind: str) -> Importer | None:
    return _IMPORTERS.get(kind)


def kind_choices() -> list[tuple[str, Any]]:
    return [(importer.kind, importer.label) for importer in _IMPORTERS.values()]


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
        return str(_IMPORTERS[self.kind].label)


# --- Reading files -----------------------------------------------------------------------


def normalise_header(text: Any) -> str:
    text = re.sub(r"[\s_]+", " ", str(text or "")).strip()
    return text.rstrip("*＊").strip().lower()


def _header_index(columns: tuple[Column, ...]) -> dict[str, Column]:
    index = {}
    for column in columns:
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


def read_sheet(upload, columns: tuple[Column, ...]) -> Sheet:
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
        return _to_sheet(raw_rows, columns)


def _to_sheet(raw_rows: Iterator[list[Any]], columns: tuple[Column, ...]) -> Sheet:
    index = _header_index(columns)
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
            missing = [column.key for column in columns if column.required and column.key not in headers]
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

    def __init__(self, columns: tuple[Column, ...], values: dict[str, Any]):
        self.columns = {column.key: column for column in columns}
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


def call_service(fields: dict[str, str], service: Callable, *args, **kwargs):
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
    """What rows refer to, found through the importing user's selectors once per value for one
    import; the importers' find functions go through `get`."""

    def __init__(self, user):
        self.user = user
        self._cache: dict[tuple[str, str], Any] = {}

    def get(self, what: str, key: str, find: Callable[[], Any]):
        if (what, key) not in self._cache:
            self._cache[(what, key)] = find()
        return self._cache[(what, key)]


def run_import(user, kind: str, upload, mode: str, *, dry_run: bool) -> ImportResult:
    """Validate every row of `upload` through the services and, unless `dry_run`, keep the
    result: all rows or none (ALL_OR_NOTHING), or the valid rows (SKIP_INVALID).

    The caller checks the IMPORT_DATA capability; the services check the rest per row.
    Raises ImportFileError when the file as a whole is unusable.
    """
    importer = _IMPORTERS.get(kind)
    if importer is None:
        raise ValueError(f"unknown import kind {kind!r}")
    if mode not in ImportMode.values:
        raise ValueError(f"unknown import mode {mode!r}")
    sheet = read_sheet(upload, importer.columns)
    lookups = Lookups(user)
    result = ImportResult(kind=kind, mode=mode, dry_run=dry_run)
    with transaction.atomic():
        for number, values in sheet.rows:
            row = Row(importer.columns, values)
            summary = " · ".join(filter(None, (cell_text(values.get(key)) for key in importer.summary_columns)))
            try:
                with transaction.atomic():
                    created = importer.handler(user, row, lookups)
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
    importer = _IMPORTERS[kind]
    workbook = Workbook()
    sheet = workbook.active
    # The sheet is named in the language of the headers; the importer reads the first sheet whatever its name.
    with translation.override("zh-hans" if chinese else "en"):
        sheet.title = sheet_title(importer.label)
    columns = importer.columns
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
    return [{"kind": importer.kind, "label": importer.label, "columns": importer.columns} for importer in importers()]
