"""`{% engineer_score user %}`: an engineer's average customer rating, e.g. "4.6 ★ (12)"."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fieldservice.feedback.selectors import engineer_scores

register = template.Library()


def _user_id(engineer) -> int | None:
    # The tag takes a user or an engineer profile (the engineer pages have the profile).
    if engineer is None:
        return None
    if hasattr(engineer, "user_id") and not hasattr(engineer, "username"):
        return engineer.user_id
    return getattr(engineer, "pk", None)


@register.simple_tag
def engineer_score(engineer):
    user_id = _user_id(engineer)
    score = engineer_scores([user_id]).get(user_id) if user_id else None
    if score is None:
        return format_html('<span class="engineer-score muted" title="{}">—</span>', _("No evaluations yet"))
    title = ngettext(
        "Average customer rating over %(count)d evaluation",
        "Average customer rating over %(count)d evaluations",
        score.count,
    ) % {"count": score.count}
    return format_html(
        '<span class="engineer-score" title="{}">{} ★ ({})</span>',
        title,
        number_format(score.average, decimal_pos=1),
        score.count,
    )
