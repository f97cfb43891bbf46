"""The PDF of one quotation version (报价单), in Chinese or English.

Drawn with reportlab like the service report, with the same embedded CJK font (field.report's
`report_font()`), so Chinese names and addresses print on every machine. What the customer
sees: prices, discounts, tax and total; never our costs.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fieldservice.accounts.selectors import own_company
from fieldservice.billing.choices import QuotationStatus
from fieldservice.billing.models import QuotationVersion
from fieldservice.core.money import format_money
from fieldservice.field.report import report_font

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LINE = colors.HexColor("#bcccdc")
SHADE = colors.HexColor("#f0f4f8")
LANGUAGES = ("zh-hans", "en")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "bold": ParagraphStyle("bold", parent=base, fontSize=11, leading=15, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, alignment=TA_RIGHT),
        "company": ParagraphStyle("company", parent=base, fontSize=12, leading=16),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>"), style)


def _style(font: str, commands: list) -> TableStyle:
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), font), *commands])


def render_quotation_pdf(version: QuotationVersion, *, language: str | None = None) -> bytes:
    """The PDF of `version`, in `language` ("zh-hans" or "en"; the active language otherwise)."""
    if language not in LANGUAGES:
        language = translation.get_language()
    with translation.override(language):
        return _render(version)


def _render(version: QuotationVersion) -> bytes:
    quotation = version.quotation
    order = quotation.work_order
    font = report_font()
    styles = _styles(font)
    company = own_company()
    currency = quotation.currency
    story = []

    company_lines = [company.name, company.address, company.phone] if company is not None else [""]
    head = Table(
        [
            [
                [_p(company_lines[0], styles["company"])]
                + [_p(line, styles["small"]) for line in company_lines[1:] if line],
                [
                    _p(_("Quotation"), styles["title"]),
                    _p(
                        _("%(number)s, version %(version)s") % {"number": quotation.number, "version": version.number},
                        styles["right"],
                    ),
                ],
            ]
        ],
        colWidths=[100 * mm, 80 * mm],
    )
    head.setStyle(
        _style(
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

    site = order.site
    details = [
        (_("Customer"), order.customer.name),
        (_("Site"), f"{site.name}\n{site.full_address}" if site else "—"),
        (_("Work order"), order.number),
        (_("Service type"), order.get_service_type_display()),
        (_("Date"), timezone.localtime(version.created_at).date().isoformat()),
        (_("Valid until"), version.valid_until.isoformat()),
    ]
    if order.equipment_id:
        equipment = order.equipment
        details.insert(2, (_("Machine"), f"{equipment.product_model.name} #{equipment.serial_number}"))
    table = Table(
        [[_p(label, styles["small"]), _p(value, styles["base"])] for label, value in details],
        colWidths=[38 * mm, 142 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        _style(
            font,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, LINE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ],
        )
    )
    story.append(table)

    story.append(_p(_("Items"), styles["heading"]))
    header = [_("Description"), _("Quantity"), _("Unit price"), _("Discount"), _("Price")]
    rows = [[_p(text, styles["small"]) for text in header]]
    for line in version.lines.select_related("part").order_by("position", "pk"):
        description = line.description
        if line.part_id:
            description = f"{line.description}\n{line.part.part_number}"
        quantity = f"{line.quantity.normalize():f} {line.unit}".strip()
        rows.append(
            [
                _p(f"{line.get_kind_display()}: {description}", styles["base"]),
                _p(quantity, styles["right"]),
                _p(format_money(line.unit_price, currency), styles["right"]),
                _p(format_money(line.discount, currency) if line.discount else "", styles["right"]),
                _p(format_money(line.amount, currency), styles["right"]),
            ]
        )
    items = Table(rows, colWidths=[76 * mm, 22 * mm, 28 * mm, 26 * mm, 28 * mm], repeatRows=1)
    items.setStyle(
        _style(
            font,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, LINE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ],
        )
    )
    story.append(items)

    totals = [
        (_("Subtotal"), version.subtotal),
        (_("Discount"), -version.discount),
        (_("Tax (%(rate)s %%)") % {"rate": f"{version.tax_rate.normalize():f}"}, version.tax),
    ]
    total_rows = [
        [_p(label, styles["right"]), _p(format_money(amount, currency), styles["right"])] for label, amount in totals
    ]
    total_rows.append([_p(_("Total"), styles["bold"]), _p(format_money(version.total, currency), styles["bold"])])
    total_table = Table(total_rows, colWidths=[152 * mm, 28 * mm])
    total_table.setStyle(
        _style(
            font,
            [("LINEABOVE", (0, -1), (-1, -1), 1, INK), ("RIGHTPADDING", (0, 0), (-1, -1), 2)],
        )
    )
    story += [Spacer(1, 2 * mm), total_table]

    if version.note:
        story += [_p(_("Note"), styles["heading"]), _p(version.note, styles["base"])]

    story.append(_p(_("Decision"), styles["heading"]))
    if quotation.status == QuotationStatus.APPROVED and quotation.decided_version == version.number:
        decision = _("Approved by %(name)s on %(date)s (%(channel)s).") % {
            "name": quotation.signer_name or "—",
            "date": timezone.localtime(quotation.decided_at).strftime("%Y-%m-%d %H:%M"),
            "channel": quotation.get_decided_via_display(),
        }
    elif quotation.status == QuotationStatus.DECLINED and quotation.decided_version == version.number:
        decision = _("Declined: %(reason)s") % {"reason": quotation.decline_reason}
    elif version.number != quotation.version:
        decision = _("Replaced by version %(number)s.") % {"number": quotation.version}
    else:
        decision = _(
            "This quotation is valid until %(date)s. Please approve or decline it through your follow link."
        ) % {"date": version.valid_until.isoformat()}
    story.append(_p(decision, styles["base"]))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{_('Quotation')} {quotation.number} v{version.number}",
        author=company.name if company else "",
    )
    document.build(story)
    return buffer.getvalue()
