from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OfferStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("pool offer", "Open")
    GRABBED = "grabbed", _("Grabbed, waiting for approval")
    AWARDED = "awarded", _("Awarded")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ACTIVE_OFFER_STATUSES = frozenset({OfferStatus.OPEN, OfferStatus.GRABBED})
