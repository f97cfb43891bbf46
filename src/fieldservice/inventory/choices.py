from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Unit(models.TextChoices):
    PIECE = "pcs", _("piece")
    SET = "set", _("set")
    METRE = "m", _("metre")
    LITRE = "l", _("litre")
    KILOGRAM = "kg", _("kilogram")


class Tracking(models.TextChoices):
    """How units of a part are followed: by quantity only, each unit by its serial, or by lot."""

    NONE = "none", _("By quantity")
    SERIAL = "serial", _("By serial number")
    LOT = "lot", _("By lot")


class WarehouseKind(models.TextChoices):
    CENTRAL = "central", _("Central warehouse")
    REGIONAL = "regional", _("Regional service centre")
    PROVIDER = "provider", _("Provider warehouse")
    VAN = "van", _("Engineer stock")
    # Where shipped stock sits between two warehouses: one per organisation, created on demand,
    # so that goods on the road are on the ledger and a shortfall is visible, not lost.
    TRANSIT = "transit", _("In transit")


class Grade(models.TextChoices):
    """Good stock may be used; defective stock (parts removed from machines) is on its way back to
    the factory and counts separately."""

    GOOD = "good", _("Good")
    DEFECTIVE = "defective", _("Defective")


class MoveReason(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ISSUE = "issue", _("Issue to an engineer")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    IN_TRANSIT = "in_transit", _("In transit")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    SHORTFALL = "shortfall", _("Shortfall in transit")
    CONSUMPTION = "consumption", _("Used on a work order")
    REMOVED_FROM_MACHINE = "removed", _("Removed from a machine")
    RETURN_GOOD = "return_good", _("Return of a good part")
    RETURN_DEFECTIVE = "return_defective", _("Return of a defective part")
    RETURN_TO_FACTORY = "to_factory", _("Return to the factory")
    ADJUSTMENT = "adjustment", _("Stock-count adjustment")
    SCRAP = "scrap", _("Scrap")
    RESERVE = "reserve", _("Reserved")
    RELEASE = "release", _("Reservation released")


class UnitStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    IN_TRANSIT = "in_transit", _("In transit")
    FITTED = "fitted", _("Fitted to a machine")
    AT_FACTORY = "at_factory", _("Returned to the factory")
    SCRAPPED = "scrapped", _("Scrapped")


class TransferKind(models.TextChoices):
    REQUISITION = "requisition", _("Requisition")
    TRANSFER = "transfer", _("Transfer")
    RETURN = "return", _("Return")


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", pgettext_lazy("stock", "Received")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.TextChoices):
    SHIP = "ship", _("Shipped by carrier")
    COLLECT = "collect", _("Collected in person")


class DefectStatus(models.TextChoices):
    """A defective part removed from a machine: owed by the engineer until a warehouse receives it."""

    OWED = "owed", _("Owed by the engineer")
    RETURNING = "returning", _("On its way back")
    RETURNED = "returned", _("In the warehouse")
    AT_FACTORY = "at_factory", _("Sent to the factory")
    CLOSED = "closed", _("Finding recorded")
    SCRAPPED = "scrapped", _("Scrapped")


class FactoryReturnStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SHIPPED = "shipped", _("Sent to the factory")
    CLOSED = "closed", _("Closed")


class Finding(models.TextChoices):
    CONFIRMED = "confirmed", _("Defect confirmed")
    NO_FAULT = "no_fault", _("No fault found")
    DAMAGED = "damaged", _("Damaged in handling")


class CountStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


# Labels of the actions this app records in the event log (registered with core.events in apps.py).
ACTION_LABELS = {
    "stock_received": _("stock received"),
    "transfer_requested": _("transfer requested"),
    "transfer_approved": _("transfer approved"),
    "transfer_rejected": _("transfer rejected"),
    "transfer_shipped": _("transfer shipped"),
    "transfer_received": _("transfer received"),
    "transfer_cancelled": _("transfer cancelled"),
    "count_posted": _("stock count posted"),
    "count_cancelled": _("stock count cancelled"),
    "levels_changed": _("stock levels changed"),
    "factory_return_shipped": _("sent to the factory"),
    "factory_return_cancelled": _("return to the factory dropped"),
    "defect_cancelled": _("removed part taken back"),
    "factory_finding": _("factory finding recorded"),
    "keepers_changed": _("keepers changed"),
}
