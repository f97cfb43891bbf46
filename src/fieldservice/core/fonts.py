"""The one CJK font the product draws with where no browser does (PDF reports, QR labels).

It comes with the Python dependencies (WenQuanYi Micro Hei, Apache 2.0 / GPLv3 with the font
exception, shipped by the paperang-p2-fonts-cjk package), so a machine without system fonts still
draws Chinese instead of boxes.
"""

from importlib import resources
from pathlib import Path

FONT_PACKAGE = "paperang_p2_fonts_cjk"
FONT_RESOURCE = ("fonts", "wqy-microhei.ttc")


def cjk_font_file() -> tuple[Path, int]:
    """(path, face index) of the font the dependencies ship."""
    path = resources.files(FONT_PACKAGE).joinpath(*FONT_RESOURCE)
    return Path(str(path)), 0
