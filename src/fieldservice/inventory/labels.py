"""QR labels for parts and bins, printed from the browser.

A label's code holds a short text a scanner (the engineer's phone, a keeper's handheld) can read
without the network: `PART:<part number>` on a shelf or a box of parts, `BIN:<warehouse>/<bin>` on
a shelf place. The same library draws them as the machines' labels (segno), as inline SVG.
"""

from dataclasses import dataclass

import segno
from django.utils.safestring import SafeString, mark_safe

from fieldservice.inventory.models import Bin, Part

QR_ERROR = "m"  # medium correction survives a scratched or dirty label
QR_SCALE = 4


def part_payload(part: Part) -> str:
    return f"PART:{part.part_number}"


def bin_payload(bin: Bin) -> str:
    return f"BIN:{bin.warehouse.code}/{bin.code}"


def qr_svg(text: str) -> SafeString:
    """The code as an inline <svg> element (segno escapes nothing it is given but draws modules only)."""
    svg = segno.make_qr(text, error=QR_ERROR).svg_inline(scale=QR_SCALE, title=text)
    return mark_safe(svg)  # noqa: S308 - segno's own markup; the title text is escaped by segno


@dataclass(frozen=True)
class Label:
    payload: str
    title: str
    subtitle: str

    @property
    def svg(self) -> SafeString:
        return qr_svg(self.payload)


def part_label(part: Part) -> Label:
    return Label(part_payload(part), part.part_number, part.name)


def bin_label(bin: Bin) -> Label:
    return Label(bin_payload(bin), f"{bin.warehouse.code} / {bin.code}", bin.description or bin.warehouse.name)
