"""Lists in pages: search, filters, pagination, and export of the same list to Excel.

A list is declared once, as a `Listing` next to its view: its columns, filter form, search box,
empty-state texts and export. The declaration renders the filter bar (`core/_filter_bar.html`),
the table (`core/_list_table.html`) and the Excel export, so what a user exports is what they see
and a column is written in one place. A list view builds its scoped, filtered queryset and hands
it to `Listing.render`.
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
from django.template import engines
from django.template.defaultfilters import date as date_format
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
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
    """One column of a list: its heading, what the export writes, and how the page shows it.

    On the page a cell shows `value` (or `default` when that is empty), as a link when `link`
    gives an address, or as a badge of the class `badge` gives. The few cells that need more
    markup give `cell`, a small template that sees the page's context and `row`: its source, or
    the name of a template file (….html) when it has text to translate, since makemessages reads
    template files and not template source written in Python. Where the page and the export
    differ (the export has more columns, or another order), a column is marked `page=False` (the
    export only) or `export=False` (the page only).
    """

    label: Any  # a lazy translation
    value: Callable[[Any], Any] | None = None  # what the export writes
    cell: str | None = None  # the page's cell: template source, or a template file's name
    link: Callable[[Any], str | None] | None = None
    badge: Callable[[Any], str] | None = None  # the badge's class ("" for a plain badge)
    default: str | None = None  # shown on the page when the value is empty
    date: str | None = None  # the page shows the date or time in this format ("SHORT_DATE_FORMAT")
    heading: Any = None  # the page's heading when it is not the label
    page: bool = True  # False: the export only
    export: bool = True  # False: the page only
    when: str | None = None  # the name of a context flag the page column needs

    @property
    def exported(self) -> bool:
        return self.export and self.value is not None

    @property
    def page_label(self) -> Any:
        return self.label if self.heading is None else self.heading

    def shown(self, context) -> bool:
        return self.page and (self.when is None or bool(context.get(self.when)))

    def render_cell(self, row, context) -> str:
        if self.cell is not None:
            with context.push(row=row):
                return _cell_template(self.cell).render(context)
        value = self.value(row)
        if self.date is not None and value is not None:
            value = date_format(timezone.template_localtime(value), self.date)
        if value in (None, "") and self.default is not None:
            value = self.default
        text = format_html("{}", _page_text(value))
        if self.badge is not None:
            badge = self.badge(row)
            text = format_html('<span class="badge{}">{}</span>', f" {badge}" if badge else "", text)
        url = self.link(row) if self.link is not None else None
        if url:
            text = format_html('<a href="{}">{}</a>', url, text)
        return text


def _page_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "✓" if value else ""
    return value


_cell_templates: dict[str, Any] = {}


def _cell_template(source: str):
    """A cell's template (a file's name or its source), compiled once."""
    engine = engines["django"].engine
    if source.endswith(".html"):
        return engine.get_template(source)
    template = _cell_templates.get(source)
    if template is None:
        template = engine.from_string(source)
        _cell_templates[source] = template
    return template


@dataclass(frozen=True)
class Listing:
    """A list page declared once: the columns, the filters, the search box, the default order,
    the export and the empty-state texts. `render` draws the page (its template includes
    `core/_filter_bar.html` and `core/_list_table.html`), the table alone for htmx, or the export.
    """

    # The columns, or a function that gives them when other apps add export columns at start-up.
    columns: Sequence[Column] | Callable[[], Sequence[Column]]
    export_name: str  # ASCII, names the downloaded file
    export_title: Any  # names the sheet, in the user's language
    empty: Any  # the text when there is nothing to list
    empty_filtered: Any = None  # the text when a search or filter finds nothing
    filter_form: type | None = None  # a form with the filter fields (GET); `q` is the search box
    search: Any = None  # the search box's placeholder; None: no search box
    search_label: Any = _("Search")
    # The submit button's text when it is not "Search" (with a search box) or "Filter" (without);
    # the filter bar is then a search landmark.
    button: Any = None
    order: Sequence[str] = ()  # the default order; empty keeps the queryset's
    row_id: str | None = None  # rows get id="<row_id>-<pk>" (htmx swaps and tests find them)
    row_class: Callable[[Any], str] | None = None
    # What the page's rows are made of, from a page of objects, when the cells need more than the
    # objects (the export reads the objects themselves).
    page_rows: Callable[[Sequence[Any]], Sequence[Any]] | None = None
    summary: str | None = None  # a template shown above the table, swapped with it
    live: bool = False  # screen readers announce new results
    empty_count: bool = True  # "0 records" below the empty-state text
    export_link: bool = True  # the "Export to Excel" button below the table
    filter_labels: bool = True  # filters shown with their label; False: the label is spoken only
    # Each control of the filter bar asks for the results itself (the search box as soon as a key
    # is up) rather than the form as a whole.
    per_control: bool = False
    per_page: int = PAGE_SIZE

    def filters(self, request, **kwargs):
        """The bound filter form of this request (None when the list has no filters)."""
        if self.filter_form is None:
            return None
        return self.filter_form(request.GET or None, **kwargs)

    def row_attributes(self, row) -> str:
        attributes = [format_html(' class="{}"', self.row_class(row))] if self.row_class else []
        if self.row_id:
            attributes.append(format_html(' id="{}-{}"', self.row_id, row.pk))
        return mark_safe("".join(attributes))  # noqa: S308 - joins format_html's safe strings

    def all_columns(self) -> Sequence[Column]:
        return self.columns() if callable(self.columns) else self.columns

    def export_columns(self) -> list[Column]:
        return [column for column in self.all_columns() if column.exported]

    def render(self, request, template: str, queryset, *, filters=None, hide_filters=(), context: dict | None = None):
        """The page, its table alone for htmx, or the Excel export (?export=xlsx). `hide_filters`
        names filters this user is not shown (they still apply when they are in the address)."""
        if self.order:
            queryset = queryset.order_by(*self.order)
        if request.GET.get("export") == "xlsx":
            return xlsx_response(self.export_name, self.export_columns(), queryset, title=self.export_title)
        page = paginate(request, queryset, self.per_page)
        query = request.GET.get("q", "")
        filter_names = [
            name for name in (filters.fields if filters is not None else ()) if name != "q" and name not in hide_filters
        ]
        # A filter the form dropped for this user still narrows the list when it is in the address.
        filtered_by = [name for name in (filters.base_fields if filters is not None else ()) if name != "q"]
        data = {
            "page": page,
            "objects": page.object_list,
            "rows": self.page_rows(page.object_list) if self.page_rows else page.object_list,
            "query": query,
            "listing": self,
            "filter_form": filters,
            "filter_fields": [filters[name] for name in filter_names],
            "filtered": bool(query) or any(request.GET.get(name) for name in filtered_by),
            **(context or {}),
        }
        data["page_columns"] = [column for column in self.all_columns() if column.shown(data)]
        if wants_fragment(request):
            return render(request, "core/_list_table.html", data)
        return render(request, template, data)


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
