"""The letters of a care plan (关怀信函): one A4 page per customer, to print and post.

Drawn with reportlab as the quotation and the service report are, with the same embedded CJK font
(field.report's `report_font()`), so Chinese names and addresses print on every machine. Each page
has our company's letterhead, the customer's address (its first site), the greeting, the subject
and the text rendered for that customer when the plan ran.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from fieldservice.accounts.selectors import own_company
from fieldservice.customers.models import Site
from fieldservice.field.report import report_font
from fieldservice.maintenance.models.care import CarePlan

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
LANGUAGES = ("zh-hans", "en")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=16, textColor=INK, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "company": ParagraphStyle("company", parent=base, fontSize=13, leading=18),
        "subject": ParagraphStyle("subject", parent=base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=8),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def render_care_letters(plan: CarePlan, touches, *, language: str | None = None) -> bytes:
    """One page per touch of `touches` (the plan's letters), in `language` for the fixed words."""
    if language not in LANGUAGES:
        language = translation.get_language()
    with translation.override(language):
        return _render(plan, list(touches))


def _render(plan: CarePlan, touches) -> bytes:
    font = report_font()
    styles = _styles(font)
    company = own_company()
    sites = {}
    for site in Site.objects.filter(customer_id__in=[t.customer_id for t in touches], is_active=True).order_by(
        "customer_id", "name", "pk"
    ):
        sites.setdefault(site.customer_id, site)
    today = timezone.localdate().isoformat()
    story = []
    for index, touch in enumerate(touches):
        if index:
            story.append(PageBreak())
        if company is not None:
            story.append(_p(company.name, styles["company"]))
            for line in (company.address, company.phone):
                if line:
                    story.append(_p(line, styles["small"]))
        story.append(Spacer(1, 14 * mm))
        site = sites.get(touch.customer_id)
        story.append(_p(touch.customer.name, styles["base"]))
        if site is not None:
            story.append(_p(site.full_address, styles["base"]))
        if touch.to_name:
            story.append(_p(_("Attn: %(name)s") % {"name": touch.to_name}, styles["base"]))
        story.append(Spacer(1, 8 * mm))
        story.append(_p(today, styles["small"]))
        story.append(_p(touch.subject or plan.name, styles["subject"]))
        story.append(_p(touch.body, styles["base"]))
    if not story:
        story.append(_p(_("This care plan has no letters."), styles["base"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=plan.name,
        author=company.name if company else "",
    )
    document.build(story)
    return buffer.getvalue()
