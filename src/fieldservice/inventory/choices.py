from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    PIECE = "pcs", _("piece")
    SET = "set", _("set")
    METRE = "m", _("metre")
    LITRE = "l", _("litre")
    KILOGRAM = "kg", _("kilogram")
