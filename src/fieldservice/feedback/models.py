from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.workorders.models import WorkOrder

MIN_SCORE = 1
MAX_SCORE = 5
SCORE_FIELDS = ("overall", "timeliness", "attitude", "quality")
COMMENT_MAX_LENGTH = 2000
CALLBACK_RESULT_MAX_LENGTH = 2000


def _score(label):
    return models.PositiveSmallIntegerField(
        label, validators=[MinValueValidator(MIN_SCORE), MaxValueValidator(MAX_SCORE)]
    )


class Evaluation(models.Model):
    """The customer's rating of one finished work order, given once through the follow link.
    A low score asks an agent to call the customer back."""

    work_order = models.OneToOneField(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="evaluation"
    )
    overall = _score(_("overall"))
    timeliness = _score(_("timeliness"))
    attitude = _score(_("attitude"))
    quality = _score(_("quality of work"))
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now, db_index=True)
    needs_callback = models.BooleanField(_("needs a call back"), default=False)
    callback_result = models.TextField(_("call-back result"), max_length=CALLBACK_RESULT_MAX_LENGTH, blank=True)
    callback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("called back by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    callback_at = models.DateTimeField(_("called back"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": MIN_SCORE, f"{name}__lte": MAX_SCORE}),
                    name=f"evaluation_{name}_range",
                )
                for name in SCORE_FIELDS
            ),
            # A call back is recorded whole or not at all.
            models.CheckConstraint(
                condition=models.Q(callback_at__isnull=True, callback_result="")
                | models.Q(callback_at__isnull=False) & ~models.Q(callback_result=""),
                name="evaluation_callback_complete",
            ),
        ]
        indexes = [models.Index(fields=["needs_callback", "callback_at"])]

    def __str__(self) -> str:
        return f"{self.work_order} · {self.overall}/{MAX_SCORE}"

    @property
    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in SCORE_FIELDS}
