from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import FittedPart
from fieldservice.inventory.models import Part
from fieldservice.workorders.models import Attachment, WorkOrder


class PartUsage(models.Model):
    """A part the engineer used on a visit: a replacement for one of the machine's fitted parts,
    or an addition. The machine's fitted parts change when the visit is completed."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="part_usages"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    # SET_NULL: completing the visit may remove the replaced fitted part; the snapshot below stays.
    replaces = models.ForeignKey(
        FittedPart,
        verbose_name=_("replaces"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replaced_part_number = models.CharField(_("replaced part number"), max_length=64, blank=True)
    replaced_serial = models.CharField(_("old serial number"), max_length=64, blank=True)
    is_replacement = models.BooleanField(_("replacement"), default=False)
    new_serial = models.CharField(_("new serial number"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        ordering = ["work_order", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="part_usage_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity.normalize()}"


class Signature(models.Model):
    """The customer's signature on a visit: the image (an attachment of kind signature) and who signed."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="signatures"
    )
    attachment = models.OneToOneField(Attachment, on_delete=models.CASCADE, related_name="+")
    signer_name = models.CharField(_("signed by"), max_length=100)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("captured by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    captured_at = models.DateTimeField(_("signed"), default=timezone.now)

    class Meta:
        verbose_name = _("customer signature")
        verbose_name_plural = _("customer signatures")
        ordering = ["work_order", "captured_at", "pk"]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.signer_name}"
