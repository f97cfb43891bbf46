from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldservice.inventory.choices import Unit


class Part(models.Model):
    """A spare part in the catalogue. Bills of materials, fitted parts and (later) stock refer to it."""

    part_number = models.CharField(_("part number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    specification = models.CharField(_("specification"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["part_number"]

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"
