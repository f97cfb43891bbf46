"""Mail filing: what arrives in the service mailbox is filed by the system, as a new request or
as a reply onto the request's open work order (or its history). `workorders.mail` reads the
mailbox and parses each mail; these services write it."""

from collections.abc import Sequence

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.core.errors import DomainError, field_error
from fieldservice.core.events import record_event
from fieldservice.core.models import Event
from fieldservice.core.validation import normalise_email
from fieldservice.customers.models import Contact
from fieldservice.workorders.choices import OPEN_STATUSES, Channel, Priority, RequestStatus, ServiceType
from fieldservice.workorders.models import ServiceRequest, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services.intake import attach_file, check_request_fields, number_request
from fieldservice.workorders.services.log import log_event

# The action of a reply filed on a work order's service log or in a request's history.
EMAIL_REPLY = "email_reply"


def _attachments_note(not_kept: Sequence[str]) -> str:
    if not not_kept:
        return ""
    return _("Attachments not kept: %(names)s") % {"names": ", ".join(not_kept)}


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def _request_reply_events():
    return Event.objects.filter(content_type=ContentType.objects.get_for_model(ServiceRequest), action=EMAIL_REPLY)


def email_thread(message_ids: Sequence[str]) -> ServiceRequest | None:
    """The request an e-mail thread belongs to: the one whose first mail, or one of whose
    replies, has one of `message_ids`. The earlier an id is in the list, the more it counts
    (pass In-Reply-To first)."""
    ids = [mid for mid in dict.fromkeys(message_ids) if mid]
    if not ids:
        return None
    found: dict[str, int] = {}
    for request in ServiceRequest.objects.filter(email_message_id__in=ids).order_by("-pk"):
        found[request.email_message_id] = request.pk
    for event in WorkOrderEvent.objects.filter(action=EMAIL_REPLY, payload__message_id__in=ids).select_related(
        "work_order"
    ):
        found.setdefault(event.payload["message_id"], event.work_order.request_id)
    for event in _request_reply_events().filter(changes__message_id__1__in=ids):
        found.setdefault(event.changes["message_id"][1], int(event.object_pk))
    for mid in ids:
        if mid in found:
            return ServiceRequest.objects.filter(pk=found[mid]).first()
    return None


def email_filed(message_id: str) -> bool:
    """Whether a mail with this Message-ID was already filed, as a request or as a reply."""
    return (
        ServiceRequest.objects.filter(email_message_id=message_id).exists()
        or WorkOrderEvent.objects.filter(action=EMAIL_REPLY, payload__message_id=message_id).exists()
        or _request_reply_events().filter(changes__message_id__1=message_id).exists()
    )


def _refuse_filed(message_id: str) -> None:
    if not message_id:
        raise ValueError("an e-mail is filed under its Message-ID")
    if email_filed(message_id):
        raise DomainError("duplicate_email", _("This e-mail was already filed."))


@transaction.atomic
def file_email_request(
    *,
    sender_email: str,
    description: str,
    message_id: str,
    sender_name: str = "",
    attachments: Sequence[tuple[str, object]] = (),
    not_kept: Sequence[str] = (),
) -> ServiceRequest:
    """A request from an e-mail, filed by the system. A sender who is a contact of exactly one
    customer links the request to that contact; any other sender's request waits for an agent
    to say whose it is (`assign_request_customer`) and confirm it.

    `attachments` are (kind, file) pairs; `not_kept` names the ones the mail carried that
    could not be kept, so an agent can ask for them."""
    email = normalise_email(sender_email, field="reporter_email")
    if not email:
        raise field_error(
            "reporter_email", _("“%(value)s” is not an e-mail address.") % {"value": sender_email}, "required"
        )
    _refuse_filed(message_id)
    contacts = list(
        Contact.objects.filter(email__iexact=email, customer__is_active=True)
        .select_related("customer")
        .order_by("-is_primary", "pk")[:20]
    )
    # The same address at two customers says nothing about whose machine it is.
    contact = contacts[0] if len({c.customer_id for c in contacts}) == 1 else None
    customer = contact.customer if contact else None
    description = check_request_fields(
        customer=customer,
        contact=contact,
        equipment=None,
        service_type=ServiceType.REPAIR,
        priority=Priority.NORMAL,
        fault_category=None,
        description=description,
    )
    request = ServiceRequest.objects.create(
        channel=Channel.EMAIL,
        status=RequestStatus.OPEN if contact else RequestStatus.UNCONFIRMED,
        customer=customer,
        contact=contact,
        service_type=ServiceType.REPAIR,
        description=description,
        reporter_name=(sender_name or (contact.name if contact else "")).strip()[:100],
        reporter_phone=contact.phone if contact else "",
        reporter_email=email,
        email_message_id=message_id,
        confirmed_at=timezone.now() if contact else None,
    )
    number_request(request)
    for kind, file in attachments:
        attach_file(request, actor=None, file=file, kind=kind)
    record_event(
        request,
        actor=None,
        action="created",
        related=customer,
        note=_join(str(Channel.EMAIL.label), _attachments_note(not_kept)),
    )
    return request


@transaction.atomic
def add_email_reply(
    request: ServiceRequest,
    *,
    sender_email: str,
    message_id: str,
    text: str,
    attachments: Sequence[tuple[str, object]] = (),
    not_kept: Sequence[str] = (),
) -> WorkOrder | ServiceRequest:
    """A mail in a request's thread, added by the system where people will see it: on the
    service log of the request's newest open work order, or in the request's history when no
    order is open. Its attachments go to the same place, which is returned."""
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    _refuse_filed(message_id)
    text = (text or "").strip()
    if not text and not attachments:
        raise field_error("description", _("Describe the problem."), "required")
    if len(text) > 5000:
        raise field_error("description", _("At most %(n)d characters.") % {"n": 5000}, "max_length")
    email = normalise_email(sender_email, field="reporter_email")
    note = _join(text, _attachments_note(not_kept))
    order = request.work_orders.filter(status__in=OPEN_STATUSES).order_by("-created_at", "-pk").first()
    target = order or request
    kept = [attach_file(target, actor=None, file=file, kind=kind) for kind, file in attachments]
    if order is not None:
        log_event(
            order,
            actor=None,
            action=EMAIL_REPLY,
            note=note,
            payload={
                "message_id": message_id,
                "from": email,
                "request": request.number,
                "attachments": [attachment.pk for attachment in kept],
                "not_kept": list(not_kept),
            },
        )
    else:
        # The request history has no payload; the Message-ID rides in `changes` so later
        # replies in the thread still find this request.
        record_event(
            request,
            actor=None,
            action=EMAIL_REPLY,
            related=request.customer,
            note=note,
            changes={"message_id": [None, message_id]},
        )
    return target
