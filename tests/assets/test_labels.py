from io import BytesIO
from xml.etree import ElementTree

import segno
from django.test import override_settings
from PIL import Image

from fieldservice.assets import labels


@override_settings(FSM_PUBLIC_BASE_URL="https://service.example.com/")
def test_the_qr_code_encodes_exactly_the_absolute_public_url(world):
    url = f"https://service.example.com/e/{world.machine_a.public_token}/"
    assert labels.public_url(world.machine_a) == url
    assert labels.make_qr(world.machine_a).matrix == segno.make_qr(url, error="m").matrix
    assert labels.make_qr(world.machine_a).matrix != segno.make_qr(url + "x", error="m").matrix


def test_png_label_decodes_with_the_expected_size(world):
    image = Image.open(BytesIO(labels.label_png(world.machine_a)))
    image.load()
    assert image.format == "PNG"
    assert image.size == (labels.LABEL_WIDTH, labels.LABEL_HEIGHT)
    # Dark QR modules were drawn (a blank label would be all white).
    assert image.convert("L").getextrema()[0] == 0


def test_png_qr_modules_are_where_the_matrix_says(world):
    qr = labels.make_qr(world.machine_a)
    image = Image.open(BytesIO(labels.label_png(world.machine_a))).convert("L")
    scale, left, _size = labels._layout(qr)
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            centre = (
                left + (x + labels.QR_BORDER) * scale + scale // 2,
                labels.MARGIN + (y + labels.QR_BORDER) * scale + scale // 2,
            )
            assert (image.getpixel(centre) == 0) == bool(dark)


@override_settings(FSM_PUBLIC_BASE_URL="https://service.example.com")
def test_svg_label_names_the_machine_and_the_url_and_escapes_text(world):
    world.model.name = "Press <A&B>"
    svg = labels.label_svg(world.machine_a)
    root = ElementTree.fromstring(svg)  # well-formed
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "S/N A-0001" in svg
    assert "IM-200 Press &lt;A&amp;B&gt;" in svg
    assert f"https://service.example.com/e/{world.machine_a.public_token}/" in svg
    assert "<A&B>" not in svg
    # segno's code is nested in the label.
    assert svg.count("<svg") == 2
    assert 'class="qrline"' in svg


def test_chinese_on_a_label_is_drawn_with_real_glyphs():
    # Without a CJK font every Chinese character is the same missing-glyph box; the font that the
    # dependencies ship draws each its own shape, on any machine.
    from fieldservice.assets.labels import _font

    font = _font(30)
    assert not str(font.path).startswith("/usr/share/fonts")  # the machine may have none
    masks = {bytes(font.getmask(char)) for char in "宁波机械"}
    assert len(masks) == 4
