from django.db import models
from django.utils.translation import gettext_lazy as _

# Shared with the apps below workorders, so they live in core; the apps above keep importing them
# from here, next to the transition table.
from fieldservice.core.choices import Priority as Priority
from fieldservice.core.choices import ServiceType as ServiceType
from fieldservice.core.choices import WorkOrderStatus as WorkOrderStatus


class Channel(models.TextChoices):
    QR = "qr", _("QR self-service")
    PORTAL = "portal", _("Customer portal")
    PHONE = "phone", _("Phone / agent")
    EMAIL = "email", _("E-mail")
    PROVIDER = "provider", _("Dealer / provider")
    API = "api", _("API")
    IOT = "iot", _("IoT alert")
    # Opened by us before the customer calls: a maintenance plan, an inspection, a campaign.
    PROACTIVE = "proactive", _("Proactive service")


# The channels our desk may record for a request it takes for a customer (a call, an e-mail, ...).
DESK_CHANNELS = [Channel.PHONE, Channel.EMAIL, Channel.PROVIDER, Channel.PORTAL]


class RequestStatus(models.TextChoices):
    # Waiting for an agent: the reporter's phone or e-mail matched no known contact.
    UNCONFIRMED = "unconfirmed", _("Waiting for confirmation")
    OPEN = "open", _("Open")
    CONVERTED = "converted", _("Work order created")
    RESOLVED = "resolved", _("Resolved without a visit")
    DISCARDED = "discarded", _("Discarded")


S = WorkOrderStatus


class Transition(models.TextChoices):
    """The verbs that move a work order. Each has one row in TRANSITIONS."""

    DISPATCH = "dispatch", _("dispatch")
    ACCEPT = "accept", _("accept")
    REJECT = "reject", _("reject")
    REVOKE = "revoke", _("revoke")
    START_TRAVEL = "start_travel", _("start travel")
    CHECK_IN = "check_in", _("check in")
    COMPLETE = "complete", _("complete")
    CLOSE = "close", _("close")
    HOLD = "hold", _("put on hold")
    RESUME = "resume", _("resume")
    CANCEL = "cancel", _("cancel")


T = Transition

# verb -> (states it may start from, state it leads to). RESUME leads back to the state the
# order was in before the hold (stored on the order), so its target is None here.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    T.DISPATCH: (frozenset({S.NEW, S.REJECTED}), S.DISPATCHED),
    T.ACCEPT: (frozenset({S.DISPATCHED}), S.ACCEPTED),
    T.REJECT: (frozenset({S.DISPATCHED}), S.REJECTED),
    T.REVOKE: (frozenset({S.DISPATCHED, S.ACCEPTED, S.TRAVELLING}), S.NEW),
    T.START_TRAVEL: (frozenset({S.ACCEPTED}), S.TRAVELLING),
    T.CHECK_IN: (frozenset({S.ACCEPTED, S.TRAVELLING}), S.ON_SITE),
    T.COMPLETE: (frozenset({S.ON_SITE}), S.COMPLETED),
    T.CLOSE: (frozenset({S.COMPLETED}), S.CLOSED),
    T.HOLD: (frozenset({S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE}), S.ON_HOLD),
    T.RESUME: (frozenset({S.ON_HOLD}), None),
    T.CANCEL: (frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_HOLD, S.REJECTED}), S.CANCELLED),
}

OPEN_STATUSES = frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE, S.ON_HOLD, S.REJECTED})
# Orders a dispatcher must act on.
TO_DISPATCH_STATUSES = frozenset({S.NEW, S.REJECTED})
# Orders an engineer is working on (after accepting).
IN_PROGRESS_STATUSES = frozenset({S.ACCEPTED, S.TRAVELLING, S.ON_SITE})
FINISHED_STATUSES = frozenset({S.COMPLETED, S.CLOSED, S.CANCELLED})

STATUS_COLOURS = {
    S.NEW: "warn",
    S.DISPATCHED: "",
    S.ACCEPTED: "",
    S.TRAVELLING: "",
    S.ON_SITE: "",
    S.COMPLETED: "ok",
    S.CLOSED: "ok",
    S.ON_HOLD: "warn",
    S.REJECTED: "bad",
    S.CANCELLED: "",
}


class HoldReason(models.TextChoices):
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for the customer")
    OTHER = "other", _("Other")


class ResolutionType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    REPLACE_PART = "replace_part", _("Replace part")
    EXCHANGE = "exchange", _("Exchange the machine")
    LOAN_UNIT = "loan_unit", _("Loan unit")
    RETURN_TO_FACTORY = "return_to_factory", _("Return to factory")
    REMOTE_FIX = "remote_fix", _("Remote fix")


class NeededPartSource(models.TextChoices):
    FAULT_CATEGORY = "fault_category", _("Usual for the fault")
    KNOWLEDGE = "knowledge", _("From the knowledge base")
    AGENT = "agent", _("Added by a person")
    PLAN = "plan", _("Maintenance plan or campaign")


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    SIGNATURE = "signature", _("Customer signature")
    DOCUMENT = "document", _("Document")


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    **{verb.value: verb.label for verb in Transition},
    "confirmed": _("confirmed"),
    "resolved": _("resolved without a visit"),
    "discarded": _("discarded"),
    "email_reply": _("e-mail from the customer"),
    "needed_parts": _("needed parts set"),
}
