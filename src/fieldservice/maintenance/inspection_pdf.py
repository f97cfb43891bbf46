"""The inspection report (巡检报告) PDF, per machine with its checklist answers and its findings, in
Chinese or English; with the template's layout `certificate`, a calibration certificate per machine
(measured values, allowed ranges, pass or fail, certificate number, validity). Drawn with reportlab
and the embedded CJK font of the service report (`field.report.report_font`)."""

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
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fieldservice.accounts.selectors import own_company
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.field.report import report_font
from fieldservice.maintenance.models import Inspection
from fieldservice.maintenance.selectors.inspections import machines_of

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LINE = colors.HexColor("#bcccdc")
SHADE = colors.HexColor("#f0f4f8")
BAD = colors.HexColor("#b42318")
LANGUAGES = ("zh-hans", "en")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=22, alignment=TA_RIGHT),
        "company": ParagraphStyle("company", parent=base, fontSize=12, leading=16),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text not in (None, "") else "—")).replace("\n", "<br/>"), style)


def _table(rows, widths, font, header=True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.4, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _number(value) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _answer(step) -> str:
    if step.answered_at is None:
        return _("not answered")
    if step.kind == StepKind.YES_NO:
        return _("yes") if step.value_bool else _("no")
    if step.kind in (StepKind.NUMBER, StepKind.METER):
        return f"{_number(step.value_number)} {step.unit}".strip()
    if step.kind in (StepKind.PHOTO, StepKind.SIGNATURE):
        return _("photo taken") if step.attachment_id else "—"
    if step.kind == StepKind.INSTRUCTION:
        return _("done")
    return step.value_text


def _range(step) -> str:
    if step.min_value is None and step.max_value is None:
        return "—"
    return f"{_number(step.min_value)} … {_number(step.max_value)} {step.unit}".strip()


def _passes(step) -> bool | None:
    if step.value_number is None:
        return None
    if step.min_value is not None and step.value_number < step.min_value:
        return False
    return not (step.max_value is not None and step.value_number > step.max_value)


def render_inspection_pdf(inspection: Inspection, *, language: str | None = None) -> bytes:
    """The report of `inspection` in `language` ("zh-hans" or "en"; the active language otherwise)."""
    if language not in LANGUAGES:
        language = translation.get_language()
    with translation.override(language):
        return _render(inspection)


def _render(inspection: Inspection) -> bytes:
    inspection = Inspection.objects.select_related("customer", "site", "template", "owner").get(pk=inspection.pk)
    font = report_font()
    styles = _styles(font)
    company = own_company()
    certificate = inspection.template.report_layout == ReportLayout.CERTIFICATE
    title = _("Calibration certificate") if certificate else _("Inspection report")
    story = []
    head = Table(
        [
            [
                [_p(company.name if company else "", styles["company"])],
                [_p(title, styles["title"]), _p(inspection.number, styles["small"])],
            ]
        ],
        colWidths=[100 * mm, 80 * mm],
    )
    head.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LINEBELOW", (0, 0), (-1, 0), 1, INK)]))
    story += [head, Spacer(1, 4 * mm)]
    details = [
        (_("Customer"), inspection.customer.name),
        (_("Site"), f"{inspection.site.name}\n{inspection.site.address}"),
        (_("Inspection"), inspection.title),
        (_("Template"), inspection.template.name),
        (_("Owner"), inspection.owner.get_full_name() or inspection.owner.username),
        (_("Status"), inspection.get_status_display()),
        (_("Report version"), inspection.report_version or "—"),
    ]
    if inspection.confirmed_at:
        details.append(
            (
                _("Confirmed by the customer"),
                f"{inspection.confirmed_by_name} · {timezone.localtime(inspection.confirmed_at):%Y-%m-%d %H:%M}",
            )
        )
    story.append(
        _table([[_p(k, styles["small"]), _p(v, styles["base"])] for k, v in details], [40 * mm, 140 * mm], font, False)
    )
    for index, line in enumerate(machines_of(inspection)):
        if certificate and index:
            story.append(PageBreak())
        equipment = line.equipment
        model = equipment.product_model
        heading = f"{model.code} {model.name} · {_('Serial number')} {equipment.serial_number}"
        story.append(_p(heading, styles["heading"]))
        if line.work_order_id:
            story.append(_p(_("Work order %(number)s") % {"number": line.work_order.number}, styles["small"]))
        if certificate:
            story.append(
                _p(
                    _("Certificate %(number)s, valid until %(date)s")
                    % {
                        "number": line.certificate_number or "—",
                        "date": line.certificate_valid_until.isoformat() if line.certificate_valid_until else "—",
                    },
                    styles["base"],
                )
            )
            rows = [
                [_p(h, styles["small"]) for h in (_("Measurement"), _("Measured"), _("Allowed range"), _("Result"))]
            ]
            for step in line.steps:
                if step.kind not in (StepKind.NUMBER, StepKind.METER):
                    continue
                passes = _passes(step)
                verdict = "—" if passes is None else (_("pass") if passes else _("fail"))
                rows.append(
                    [
                        _p(step.title, styles["base"]),
                        _p(f"{_number(step.value_number)} {step.unit}".strip(), styles["base"]),
                        _p(_range(step), styles["base"]),
                        _p(verdict, styles["base"]),
                    ]
                )
            story.append(_table(rows, [70 * mm, 35 * mm, 45 * mm, 30 * mm], font))
        else:
            rows = [[_p(h, styles["small"]) for h in (_("Step"), _("Answer"), _("Comment"))]]
            for step in line.steps:
                answer = _answer(step)
                if step.out_of_range:
                    answer = f"{answer} ({_('out of range')})"
                rows.append(
                    [_p(step.title, styles["base"]), _p(answer, styles["base"]), _p(step.comment, styles["base"])]
                )
            if len(rows) > 1:
                story.append(_table(rows, [80 * mm, 50 * mm, 50 * mm], font))
        items = list(line.items.all())
        if items:
            story.append(_p(_("Open issues looked at"), styles["small"]))
            story += [_p(f"• {item.title}", styles["base"]) for item in items]
        findings = list(line.findings.all())
        story.append(_p(_("Findings"), styles["small"]))
        if not findings:
            story.append(_p(_("No problems found."), styles["base"]))
            continue
        rows = [[_p(h, styles["small"]) for h in (_("Problem"), _("Severity"), _("Disposition"), _("Details"))]]
        for finding in findings:
            detail = finding.action_taken or finding.recommendation or ""
            if finding.repair_order_id:
                detail = _("Repair order %(number)s") % {"number": finding.repair_order.number}
            if finding.change_decision:
                detail = f"{detail}\n{finding.get_change_decision_display()}"
            if finding.note:
                detail = f"{detail}\n{finding.note}"
            rows.append(
                [
                    _p(finding.title, styles["base"]),
                    _p(finding.get_severity_display(), styles["base"]),
                    _p(finding.get_disposition_display(), styles["base"]),
                    _p(detail.strip(), styles["base"]),
                ]
            )
        story.append(_table(rows, [55 * mm, 22 * mm, 38 * mm, 65 * mm], font))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{title} {inspection.number}",
    )
    document.build(story)
    return buffer.getvalue()
