"""Texts that administrators and planners write: Django template syntax rendered by a bare engine
(no loaders, no tag libraries, no autoescape) with a plain dict, so a text can format the values it
is given but reach nothing else. One language and one check for every such text: the notification
templates (notifications) and the customer-care letters and messages (maintenance)."""

from __future__ import annotations

from functools import lru_cache

from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

from fieldservice.core.errors import field_error

ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=False, debug=False)


@lru_cache(maxsize=512)
def compiled(source: str):
    # Compiling is most of a render's cost; a compiled template renders any context.
    return ENGINE.from_string(source)


def render(source: str, values: dict) -> str:
    """`source` rendered with `values` (names as given), stripped."""
    plain = {str(name): value for name, value in values.items()}
    return compiled(source).render(Context(plain, autoescape=False)).strip()


def check(source: str, field: str, render_sample) -> str:
    """Refuse, naming `field`, a text that does not compile or fails with the sample values;
    `render_sample(source)` renders it the way its owner will."""
    try:
        render_sample(source)
    except TemplateSyntaxError as error:
        raise field_error(field, _("Template error: %(error)s") % {"error": error}, "template_syntax") from None
    except Exception as error:
        raise field_error(
            field, _("The template fails with the sample values: %(error)s") % {"error": error}, "template_render"
        ) from None
    return source
