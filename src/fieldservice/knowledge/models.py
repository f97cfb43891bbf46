from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import ProductModel
from fieldservice.knowledge.choices import ArticleStatus
from fieldservice.workorders.models import FaultCategory, WorkOrder

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 20000


class Article(models.Model):
    """A known fault and how to fix it: symptoms, cause, solution. Engineers and agents read
    the published ones; drafts (often made from a closed work order) only the editors."""

    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    fault_category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("fault category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    product_model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    symptoms = models.TextField(_("symptoms"), blank=True)
    cause = models.TextField(_("cause"), blank=True)
    solution = models.TextField(_("solution"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=True
    )
    source_order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("from work order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            # One article per work order, so drafting it twice finds the first.
            models.UniqueConstraint(
                fields=["source_order"], condition=models.Q(source_order__isnull=False), name="article_one_per_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title
