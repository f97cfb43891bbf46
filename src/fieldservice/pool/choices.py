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


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "pool_published": _("offered in the grab pool"),
    "pool_withdrawn": _("withdrawn from the grab pool"),
    "pool_grabbed": _("grabbed from the grab pool"),
    "pool_grab_declined": _("grab declined"),
    "pool_expired": _("grab pool offer expired"),
}
