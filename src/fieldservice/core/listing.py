"""Lists in pages: search, filters, pagination, and export of the same list to Excel.

A list view builds its scoped, filtered queryset and hands it to `render_list`; the
same columns feed the Excel export, so what a user exports is what they see.
"""

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.encoding import force_str
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from fieldservice.core.htmx import wants_fragment

PAGE_SIZE = 25
EXPORT_LIMIT = 100_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INVALID_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    label: Any  # a lazy translation
    value: Callable[[Any], Any]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    return force_str(value)


def _sheet_cell(sheet, value: Any) -> Any:
    """Text is written as a text cell, whatever it starts with: openpyxl would store "=…" as a
    formula, and a customer named "=cmd|' /C calc'!A0" must stay a name when the file is opened
    (formula injection). The text itself is kept unchanged, so an export can be imported again."""
    value = _cell(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def sheet_title(title: Any) -> str:
    """A translated sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return INVALID_SHEET_CHARACTERS.sub(" ", force_str(title)).strip()[:31] or "Sheet"


def xlsx_response(filename: str, columns: Sequence[Column], rows, *, title: Any) -> HttpResponse:
    """The rows as a workbook. `filename` names the download (ASCII, safe in any browser);
    `title`, in the user's language, names the sheet people see in Excel."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title))
    sheet.append([_sheet_cell(sheet, force_str(column.label)) for column in columns])
    for index, row in enumerate(rows.iterator(chunk_size=2000) if hasattr(rows, "iterator") else rows):
        if index >= EXPORT_LIMIT:
            break
        sheet.append([_sheet_cell(sheet, column.value(row)) for column in columns])
    for index in range(1, len(columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    buffer = BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
    return response


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def render_list(
    request,
    template: str,
    queryset,
    *,
    columns: Sequence[Column],
    export_name: str,
    export_title: Any,
    context: dict | None = None,
    per_page: int = PAGE_SIZE,
):
    """Render a list page, its `results` partial for htmx, or its Excel export (?export=xlsx)."""
    if request.GET.get("export") == "xlsx":
        return xlsx_response(export_name, columns, queryset, title=export_title)
    page = paginate(request, queryset, per_page)
    data = {
        "page": page,
        "objects": page.object_list,
        "query": request.GET.get("q", ""),
        "columns": columns,
        **(context or {}),
    }
    if wants_fragment(request):
        return render(request, f"{template}#results", data)
    return render(request, template, data)
