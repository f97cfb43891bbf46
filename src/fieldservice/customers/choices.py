from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Person")


class CustomerTier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")
