from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation, ServiceArea, Skill
from fieldservice.pool.choices import OfferStatus
from fieldservice.workorders.models import WorkOrder


class PoolOffer(models.Model):
    """A work order published for eligible engineers to grab (抢单).

    Eligible: holds `skill` at `min_level` or above, covers one of `areas` (none = anywhere), and
    works for `provider` (none = our own engineers, plus the provider that serves the customer).
    The first grab wins by a compare-and-set on `status`; with `requires_approval` the winner
    waits for a dispatcher's yes."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="pool_offers"
    )
    status = models.CharField(_("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pool_offers",
    )
    skill = models.ForeignKey(
        Skill, verbose_name=_("skill"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_level = models.PositiveSmallIntegerField(_("minimum skill level"), default=1)
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("service areas"), blank=True, related_name="+")
    requires_approval = models.BooleanField(_("needs a dispatcher's approval"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    rule = models.ForeignKey(
        "dispatch.DispatchRule",
        verbose_name=_("rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    grabbed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grabbed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grabbed_offers",
    )
    grabbed_at = models.DateTimeField(_("grabbed"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("pool offer")
        verbose_name_plural = _("pool offers")
        ordering = ["-published_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order"],
                condition=models.Q(status__in=["open", "grabbed"]),
                name="pool_offer_one_active_per_order",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.work_order} ({self.get_status_display()})"
