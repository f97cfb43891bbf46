"""QR labels for machines: the code opens the public equipment page, the text says which
machine the label belongs to, so a label stuck on the wrong machine is easy to spot."""

import html
from functools import lru_cache
from io import BytesIO

import segno
from django.conf import settings
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFont

from fieldservice.assets.models import Equipment
from fieldservice.core.fonts import cjk_font_file

LABEL_WIDTH = 600
LABEL_HEIGHT = 760
MARGIN = 30
QR_BOX = LABEL_WIDTH - 2 * MARGIN
QR_BORDER = 4
QR_ERROR = "m"  # medium correction survives a scratched or dirty label
TITLE_SIZE = 30
URL_SIZE = 16


def public_url(equipment: Equipment) -> str:
    """The absolute address printed into the QR code; it must work from a customer's phone."""
    base = settings.FSM_PUBLIC_BASE_URL.rstrip("/")
    return base + reverse("public:equipment", args=[equipment.public_token])


def make_qr(equipment: Equipment) -> segno.QRCode:
    return segno.make_qr(public_url(equipment), error=QR_ERROR)


def label_lines(equipment: Equipment) -> list[tuple[str, int]]:
    """The printed text, one (line, font size) per line."""
    model = equipment.product_model
    return [
        (f"{model.code} {model.name}", TITLE_SIZE),
        (f"S/N {equipment.serial_number}", TITLE_SIZE),
        (public_url(equipment), URL_SIZE),
    ]


def _layout(qr: segno.QRCode) -> tuple[int, int, int]:
    """Module scale, QR left and QR size in label pixels."""
    modules = qr.symbol_size(border=QR_BORDER)[0]
    scale = max(1, QR_BOX // modules)
    size = modules * scale
    return scale, (LABEL_WIDTH - size) // 2, size


@lru_cache(maxsize=8)
def _font(size: int):
    # The dependencies' CJK font: Pillow's own font has Latin only and would draw the Chinese
    # customer and model names as boxes.
    path, index = cjk_font_file()
    return ImageFont.truetype(str(path), size, index=index)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def label_png(equipment: Equipment) -> bytes:
    qr = make_qr(equipment)
    scale, left, size = _layout(qr)
    image = Image.new("L", (LABEL_WIDTH, LABEL_HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                x0 = left + (x + QR_BORDER) * scale
                y0 = MARGIN + (y + QR_BORDER) * scale
                draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=0)
    top = MARGIN + size + 10
    for text, font_size in label_lines(equipment):
        font = _font(font_size)
        draw.text(
            (LABEL_WIDTH // 2, top),
            _fit(draw, text, font, LABEL_WIDTH - 2 * MARGIN),
            font=font,
            fill=0,
            anchor="mt",
        )
        top += int(font_size * 1.4)
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def label_svg(equipment: Equipment) -> str:
    qr = make_qr(equipment)
    scale, left, size = _layout(qr)
    buffer = BytesIO()
    qr.save(buffer, kind="svg", xmldecl=False, svgns=False, nl=False, scale=scale, border=QR_BORDER)
    # segno writes one <svg> element; nesting it places the code inside the label.
    code = buffer.getvalue().decode("ascii").replace("<svg ", f'<svg x="{left}" y="{MARGIN}" ', 1)
    texts = []
    top = MARGIN + size + 10
    for text, font_size in label_lines(equipment):
        top += font_size
        # SVG cannot measure text here; cap by a generous average glyph width instead.
        room = int((LABEL_WIDTH - 2 * MARGIN) / (font_size * 0.55))
        text = text if len(text) <= room else text[: room - 1] + "…"
        texts.append(
            f'<text x="{LABEL_WIDTH // 2}" y="{top}" font-size="{font_size}" text-anchor="middle">'
            f"{html.escape(text)}</text>"
        )
        top += int(font_size * 0.4)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH}" height="{LABEL_HEIGHT}" '
        f'viewBox="0 0 {LABEL_WIDTH} {LABEL_HEIGHT}" class="qr-label">'
        f"<title>{html.escape(public_url(equipment))}</title>"
        f'<rect width="100%" height="100%" fill="#fff"/>{code}'
        f'<g font-family="sans-serif" fill="#000">{"".join(texts)}</g></svg>'
    )
