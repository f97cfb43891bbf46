"""The service report: one A4 PDF per completed visit, for the customer and our records.

`render_service_report(order)` is also what the customer portal serves for download.

Every glyph comes from one embedded (subset) TrueType font, so the PDF looks the same in every
reader: Chinese, Latin and symbols such as "›" and "·". The font is WenQuanYi Micro Hei (Apache
2.0 / GPLv3 with the font exception), shipped by the paperang-p2-fonts-cjk package, a dependency,
so no system font is needed. `settings.FSM_REPORT_FONT` ("path" or "path:index" of a collection)
may name another TrueType font; reportlab cannot embed PostScript (CFF) outlines such as Noto Sans
CJK's. The standard fonts (Helvetica, STSong-Light) are never used: a reader without them draws
boxes.
"""

import functools
import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from PIL import Image as PILImage
from PIL import ImageOps
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fieldservice.accounts.selectors import own_company
from fieldservice.core.fonts import cjk_font_file
from fieldservice.field import selectors
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.workorders.models import WorkOrder

logger = logging.getLogger(__name__)

EMBEDDED_FONT = "FSMReportCJK"
PHOTO_BOX = (54 * mm, 38 * mm)
PHOTO_PIXELS = 900
SIGNATURE_BOX = (70 * mm, 28 * mm)
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LINE = colors.HexColor("#bcccdc")
SHADE = colors.HexColor("#f0f4f8")
BAD = colors.HexColor("#b42318")
BAD_SHADE = colors.HexColor("#fdecea")
OK = colors.HexColor("#1b7a3a")
STEP_IMAGE_BOX = (32 * mm, 22 * mm)


@functools.cache
def report_font() -> str:
    """The registered name of the embedded font the report uses (looked up once per process)."""
    candidates = []
    configured = getattr(settings, "FSM_REPORT_FONT", "")
    if configured:
        path, _sep, index = str(configured).partition(":")
        candidates.append((Path(path), int(index or 0)))
    candidates.append(cjk_font_file())
    for path, index in candidates:
        try:
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=index))
        except Exception:  # noqa: BLE001 - a missing file or outlines reportlab cannot embed
            logger.warning("Service report: cannot embed the font %s (face %d); trying the next", path, index)
            continue
        return EMBEDDED_FONT
    raise ImproperlyConfigured(
        "The service report needs a TrueType font; install the dependencies again (pip install -e .)."
    )


def _styles(font: str) -> dict[str, ParagraphStyle]:
    # wordWrap CJK lets Chinese lines break between any two characters.
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "label": ParagraphStyle("label", parent=base, fontSize=8.5, leading=11.5, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, spaceAfter=2),
        "company": ParagraphStyle("company", parent=base, fontSize=12, leading=16),
        "number": ParagraphStyle("number", parent=base, fontSize=11, leading=15, alignment=TA_RIGHT),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "bad": ParagraphStyle("bad", parent=base, fontSize=8.5, leading=11, textColor=BAD),
        "heading_big": ParagraphStyle("heading_big", parent=base, fontSize=13, leading=17, spaceBefore=8, spaceAfter=5),
        "verdict_ok": ParagraphStyle("verdict_ok", parent=base, fontSize=12, leading=16, textColor=OK),
        "verdict_bad": ParagraphStyle("verdict_bad", parent=base, fontSize=12, leading=16, textColor=BAD),
    }


# Glyphs the embedded font maps but draws empty: written with the characters it does draw.
FONT_SUBSTITUTES = str.maketrans({"℃": "°C", "℉": "°F"})


def _p(text, style: ParagraphStyle) -> Paragraph:
    text = "" if text is None else str(text).translate(FONT_SUBSTITUTES)
    return Paragraph(escape(text).replace("\n", "<br/>") or "—", style)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _person(user) -> str:
    return str(user) if user is not None else "—"


def _fit(width: float, height: float, box: tuple[float, float]) -> tuple[float, float]:
    scale = min(box[0] / width, box[1] / height)
    return width * scale, height * scale


def _image_flowable(field_file, box: tuple[float, float], *, photo: bool) -> Image | None:
    """A scaled copy of an uploaded image, or None when the file cannot be read."""
    try:
        with field_file.open("rb") as handle, PILImage.open(handle) as source:
            image = ImageOps.exif_transpose(source) if photo else source.copy()
            image.load()
    except Exception:  # noqa: BLE001 - a missing or broken file must not stop the report
        logger.warning("Service report: cannot read image %s", getattr(field_file, "name", "?"))
        return None
    buffer = io.BytesIO()
    if photo:
        # Photos from phones are large; a thumbnail keeps the PDF small enough to e-mail.
        image = image.convert("RGB")
        image.thumbnail((PHOTO_PIXELS, PHOTO_PIXELS))
        image.save(buffer, format="JPEG", quality=80)
    else:
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = PILImage.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        image.save(buffer, format="PNG")
    buffer.seek(0)
    width, height = _fit(image.width, image.height, box)
    return Image(buffer, width=width, height=height)


def _table_style(font: str, commands: list) -> TableStyle:
    # A table draws its cells in its own default font (Helvetica) unless told otherwise.
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), font), *commands])


def _details_table(rows: list[tuple[str, object]], styles, widths=(38 * mm, 142 * mm)) -> Table:
    data = [
        [_p(label, styles["label"]), value if isinstance(value, Paragraph) else _p(value, styles["base"])]
        for label, value in rows
    ]
    table = Table(data, colWidths=list(widths), hAlign="LEFT")
    table.setStyle(
        _table_style(
            styles["base"].fontName,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ],
        )
    )
    return table


def _parts_table(usages, styles) -> Table:
    header = [_("Part number"), _("Name"), _("Quantity"), _("Replaces"), _("New serial number")]
    data = [[_p(text, styles["label"]) for text in header]]
    for usage in usages:
        if usage.is_replacement:
            old = usage.replaced_part_number
            replaced = f"{old} #{usage.replaced_serial}" if usage.replaced_serial else old
        else:
            replaced = _("Added")
        data.append(
            [
                _p(usage.part.part_number, styles["cell"]),
                _p(usage.part.name, styles["cell"]),
                _p(f"{usage.quantity.normalize()} {usage.part.get_unit_display()}", styles["cell"]),
                _p(replaced, styles["cell"]),
                _p(usage.new_serial or "—", styles["cell"]),
            ]
        )
    table = Table(data, colWidths=[32 * mm, 52 * mm, 24 * mm, 40 * mm, 32 * mm], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        _table_style(
            styles["base"].fontName,
            [
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.3, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ],
        )
    )
    return table


def _photo_grid(order: WorkOrder, font: str) -> Table | None:
    images = [
        image
        for image in (_image_flowable(a.file, PHOTO_BOX, photo=True) for a in selectors.photos_of(order))
        if image is not None
    ]
    if not images:
        return None
    rows = [images[i : i + 3] for i in range(0, len(images), 3)]
    # Flowables, not "": a text cell would switch to the table's default font, Helvetica.
    rows[-1] += [Spacer(1, 1) for _i in range(3 - len(rows[-1]))]
    table = Table(rows, colWidths=[60 * mm] * 3, hAlign="LEFT")
    table.setStyle(_table_style(font, [("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return table


def _num(value) -> str:
    """A Decimal as people write it: 30, 13.5 (never 3E+1 or 30.0000)."""
    return format(value.normalize(), "f")


def _answer_text(step) -> str:
    if step.answered_at is None:
        return "—"
    if step.kind == StepKind.INSTRUCTION:
        return _("Done")
    if step.kind == StepKind.YES_NO:
        return _("Yes") if step.value_bool else _("No")
    if step.kind in (StepKind.NUMBER, StepKind.METER):
        unit = f" {step.unit}" if step.unit else ""
        return f"{_num(step.value_number)}{unit}"
    if step.attachment_id:
        return ""
    return step.value_text


def _range_text(step) -> str:
    unit = f" {step.unit}" if step.unit else ""
    low, high = step.min_value, step.max_value
    if low is not None and high is not None:
        return f"{_num(low)}–{_num(high)}{unit}"
    if low is not None:
        return f"≥ {_num(low)}{unit}"
    if high is not None:
        return f"≤ {_num(high)}{unit}"
    return "—"


def _result(step) -> str:
    if step.answered_at is None:
        return _("Not answered") if step.required else "—"
    if step.out_of_range:
        return _("Out of range")
    if step.kind in (StepKind.NUMBER, StepKind.METER) and (step.min_value is not None or step.max_value is not None):
        return pgettext("calibration result", "Pass")
    return pgettext("check result", "OK")


def _grid_style(font: str, extra=()) -> TableStyle:
    return _table_style(
        font,
        [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.3, LINE),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            *extra,
        ],
    )


def checklist_table(steps, styles) -> Table:
    """The answers of an order's job steps: the step, the answer (with its unit, or a thumbnail of
    the photo or signature), the allowed range, the result (out of range marked) and the comment."""
    header = [_("No."), _("Step"), _("Answer"), _("Allowed"), _("Result"), _("Comment")]
    data = [[_p(text, styles["label"]) for text in header]]
    marks = []
    for row, step in enumerate(steps, start=1):
        # A paragraph keeps its own colour: an out-of-range answer is drawn in red itself.
        style = styles["bad"] if step.out_of_range else styles["cell"]
        answer = _p(_answer_text(step), style)
        if step.attachment_id and step.answered_at is not None:
            image = _image_flowable(step.attachment.file, STEP_IMAGE_BOX, photo=step.kind == StepKind.PHOTO)
            answer = image if image is not None else _p(_("(image)"), styles["cell"])
        optional = _("optional")
        title = step.title if step.required else f"{step.title} ({optional})"
        data.append(
            [
                _p(str(row), styles["cell"]),
                _p(title, styles["cell"]),
                answer,
                _p(_range_text(step) if step.kind in (StepKind.NUMBER, StepKind.METER) else "—", styles["cell"]),
                _p(_result(step), style),
                _p(step.comment or "—", styles["cell"]),
            ]
        )
        if step.out_of_range:
            marks.append(("BACKGROUND", (0, row), (-1, row), BAD_SHADE))
    table = Table(data, colWidths=[10 * mm, 46 * mm, 34 * mm, 26 * mm, 26 * mm, 38 * mm], hAlign="LEFT", repeatRows=1)
    table.setStyle(_grid_style(styles["base"].fontName, marks))
    return table


def _measurements_table(steps, styles) -> Table:
    header = [_("Quantity measured"), _("Measured value"), _("Allowed range"), _("Result"), _("Comment")]
    data = [[_p(text, styles["label"]) for text in header]]
    marks = []
    for row, step in enumerate(steps, start=1):
        style = styles["bad"] if step.out_of_range else styles["cell"]
        data.append(
            [
                _p(step.title, styles["cell"]),
                _p(_answer_text(step), style),
                _p(_range_text(step), styles["cell"]),
                _p(
                    pgettext("calibration result", "Fail")
                    if step.out_of_range
                    else (pgettext("calibration result", "Pass") if step.answered_at else "—"),
                    style,
                ),
                _p(step.comment or "—", styles["cell"]),
            ]
        )
        if step.out_of_range:
            marks.append(("BACKGROUND", (0, row), (-1, row), BAD_SHADE))
    table = Table(data, colWidths=[52 * mm, 30 * mm, 34 * mm, 20 * mm, 44 * mm], hAlign="LEFT", repeatRows=1)
    table.setStyle(_grid_style(styles["base"].fontName, marks))
    return table


def report_layout_of(order: WorkOrder, steps=None) -> str:
    """The layout the order's job template chose (standard without a template)."""
    steps = steps if steps is not None else list(selectors.steps_of(order))
    template = next((step.template for step in steps if step.template_id), None)
    return template.report_layout if template is not None else ReportLayout.STANDARD


def certificate_number(order: WorkOrder) -> str:
    return f"CAL-{order.number}"


def render_service_report(order: WorkOrder) -> bytes:
    """The PDF of one visit's service report, in the active language, in the layout its job
    template chose: standard (the report, then the checklist), checklist (the answers first), or
    certificate (a calibration certificate: measured values, ranges, pass or fail, a number)."""
    order = WorkOrder.objects.select_related(
        "customer", "site__contact", "equipment__product_model", "fault_category__parent", "request__contact"
    ).get(pk=order.pk)
    steps = list(selectors.steps_of(order))
    layout = report_layout_of(order, steps)
    font = report_font()
    styles = _styles(font)
    company = own_company()
    generated = timezone.now()
    story = []

    if layout == ReportLayout.CERTIFICATE:
        title, number = (
            _("Calibration certificate"),
            _("Certificate number: %(number)s") % {"number": certificate_number(order)},
        )
    elif layout == ReportLayout.CHECKLIST:
        title, number = _("Checklist report"), _("Report number: %(number)s") % {"number": order.number}
    else:
        title, number = _("Service report"), _("Report number: %(number)s") % {"number": order.number}
    company_lines = [company.name if company else ""]
    if company is not None:
        company_lines += [line for line in (company.address, company.phone) if line]
    head = Table(
        [
            [
                [_p(company_lines[0], styles["company"])] + [_p(line, styles["small"]) for line in company_lines[1:]],
                [
                    _p(title, ParagraphStyle("t", parent=styles["title"], alignment=TA_RIGHT)),
                    _p(number, styles["number"]),
                ],
            ]
        ],
        colWidths=[100 * mm, 80 * mm],
    )
    head.setStyle(
        _table_style(
            font,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, INK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ],
        )
    )
    story += [head, Spacer(1, 4 * mm)]

    # Customer and machine.
    site = order.site
    contact = selectors.contact_of(order)
    equipment = order.equipment
    story.append(_p(_("Customer and machine"), styles["heading"]))
    rows = [
        (_("Customer"), order.customer.name),
        (_("Site"), f"{site.name}\n{site.full_address}" if site else "—"),
        (_("Contact"), f"{contact.name}  {contact.phone}" if contact else "—"),
    ]
    if equipment is not None:
        rows += [
            (_("Model"), f"{equipment.product_model.code} {equipment.product_model.name}"),
            (_("Serial number"), equipment.serial_number),
            (_("Lot / batch"), equipment.lot_number or "—"),
        ]
    else:
        rows.append((_("Equipment"), "—"))
    rows.append((_("Service type"), order.get_service_type_display()))
    if layout == ReportLayout.CERTIFICATE:
        rows.append((_("Calibrated on"), _when(order.completed_at or order.checked_out_at)))
    story.append(_details_table(rows, styles))

    leads, helpers = selectors.engineers_of(order)
    if layout == ReportLayout.CERTIFICATE:
        measured = [step for step in steps if step.kind in (StepKind.NUMBER, StepKind.METER)]
        others = [step for step in steps if step not in measured]
        passed = not any(step.out_of_range for step in measured) and all(step.answered_at for step in measured)
        story.append(_p(_("Measured values"), styles["heading"]))
        story.append(
            _measurements_table(measured, styles) if measured else _p(_("No measured values."), styles["base"])
        )
        verdict = (
            _("Result: PASS, every measured value is within its allowed range.")
            if passed
            else _("Result: FAIL, a measured value is outside its allowed range or missing.")
        )
        story += [Spacer(1, 3 * mm), _p(verdict, styles["verdict_ok"] if passed else styles["verdict_bad"])]
        if others:
            story += [_p(_("Checks"), styles["heading"]), checklist_table(others, styles)]
        story.append(_p(_("Calibrated by"), styles["heading"]))
        story.append(
            _details_table(
                [
                    (_("Engineer"), ", ".join(_person(u) for u in leads + helpers) or "—"),
                    (_("Checked in"), _when(order.checked_in_at)),
                    (_("Checked out"), _when(order.checked_out_at)),
                ],
                styles,
            )
        )
    else:
        if layout == ReportLayout.CHECKLIST and steps:
            story += [_p(_("Checklist"), styles["heading_big"]), checklist_table(steps, styles)]
        # The fault and the work.
        story.append(_p(_("Fault and work done"), styles["heading"]))
        story.append(
            _details_table(
                [
                    (_("Fault description"), order.description),
                    (_("Fault category"), str(order.fault_category) if order.fault_category_id else "—"),
                    (_("Resolution"), order.get_resolution_type_display() or "—"),
                    (_("Fault cause"), order.fault_cause or "—"),
                    (_("Work done"), order.actions_taken or "—"),
                    (
                        _("Labour hours"),
                        str(order.labour_hours.normalize()) if order.labour_hours is not None else "—",
                    ),
                ],
                styles,
            )
        )
        if layout == ReportLayout.STANDARD and steps:
            story += [_p(_("Checklist"), styles["heading"]), checklist_table(steps, styles)]

        usages = list(selectors.part_usages_of(order))
        story.append(_p(_("Parts used"), styles["heading"]))
        story.append(_parts_table(usages, styles) if usages else _p(_("No parts used."), styles["base"]))

        # People and times.
        story.append(_p(_("Engineers and times"), styles["heading"]))
        story.append(
            _details_table(
                [
                    (_("Lead engineer"), ", ".join(_person(u) for u in leads) or "—"),
                    (_("Helpers"), ", ".join(_person(u) for u in helpers) or "—"),
                    (_("Checked in"), _when(order.checked_in_at)),
                    (_("Checked out"), _when(order.checked_out_at)),
                ],
                styles,
            )
        )

        photos = _photo_grid(order, font)
        if photos is not None:
            story += [_p(_("Photos"), styles["heading"]), photos]

    signature = selectors.signature_of(order)
    sign_block = [_p(_("Customer signature"), styles["heading"])]
    image = _image_flowable(signature.attachment.file, SIGNATURE_BOX, photo=False) if signature else None
    if image is not None:
        image.hAlign = "LEFT"
        sign_block.append(image)
    if signature is not None:
        sign_block.append(
            _p(
                _("Signed by %(name)s at %(time)s")
                % {"name": signature.signer_name, "time": _when(signature.captured_at)},
                styles["base"],
            )
        )
    else:
        sign_block.append(_p(_("Not signed (remote fix)."), styles["base"]))
    story.append(KeepTogether(sign_block))

    story += [
        Spacer(1, 6 * mm),
        _p(
            _("Generated at %(time)s (%(zone)s)")
            % {"time": _when(generated), "zone": timezone.get_current_timezone_name()},
            styles["small"],
        ),
    ]

    footer_text = f"{company.name if company else ''} · {order.number}"
    page_label = _("Page %(page)d")

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(15 * mm, 9 * mm, footer_text)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, page_label % {"page": doc.page})
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        # Without this every page starts with an unused, unembedded Helvetica.
        initialFontName=font,
        title=f"{title} {order.number}",
        author=company.name if company else "",
        creator="fieldservice",
    )
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
