"""Service requests from every channel, and the work orders made from them."""

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import Equipment
from fieldservice.contracts.services import decide_entitlement
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_event
from fieldservice.core.models import OutboxMessage
from fieldservice.core.outbox import emit
from fieldservice.core.uploads import check_document, check_image
from fieldservice.core.validation import check_length, normalise_email, normalise_phone
from fieldservice.customers.models import Contact, Customer, Site
from fieldservice.customers.services import add_contact
from fieldservice.workorders.choices import (
    AttachmentKind,
    Channel,
    Priority,
    RequestStatus,
    ServiceType,
)
from fieldservice.workorders.models import Attachment, FaultCategory, ServiceRequest, WorkOrder
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.proactive import OrderDraft, entitled, write_orders

PHOTO_LIMIT = 8 * 1024 * 1024
MAX_PHOTOS = 6
# Public QR reports: per machine and per address, in a sliding hour.
QR_REPORTS_PER_TOKEN_PER_HOUR = 3
QR_REPORTS_PER_IP_PER_HOUR = 10
URGENCY_MAX_LENGTH = 300


def check_request_fields(
    *,
    customer: Customer | None,
    contact: Contact | None,
    equipment: Equipment | None,
    service_type: str,
    priority: str,
    fault_category: FaultCategory | None,
    description: str,
) -> str:
    if service_type not in ServiceType.values:
        raise field_error("service_type", _("Unknown service type."), "invalid_choice")
    if priority not in Priority.values:
        raise field_error("priority", _("Unknown priority."), "invalid_choice")
    if fault_category is not None and not fault_category.is_active:
        raise field_error("fault_category", _("This fault category is no longer used."), "invalid_choice")
    if equipment is not None:
        if not equipment.is_registered:
            raise field_error(
                "equipment", _("Only registered equipment can be chosen for a service request."), "not_registered"
            )
        if customer is not None and equipment.customer_id != customer.pk:
            raise field_error("equipment", _("The equipment belongs to another customer."), "invalid_choice")
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        raise field_error("contact", _("The contact belongs to another customer."), "invalid_choice")
    description = (description or "").strip()
    if not description:
        raise field_error("description", _("Describe the problem."), "required")
    if len(description) > 5000:
        raise field_error("description", _("At most %(n)d characters.") % {"n": 5000}, "max_length")
    return description


def number_request(request: ServiceRequest) -> None:
    request.number = f"SR{request.pk:07d}"
    ServiceRequest.objects.filter(pk=request.pk).update(number=request.number)


EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def _sniff_content_type(file) -> str:
    """The type of what was checked, never of the uploader's file name: a PNG named
    "x.html" must not be served back as HTML."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        with Image.open(file) as image:
            kind = image.format
    except (UnidentifiedImageError, OSError):  # pragma: no cover - content was checked before
        kind = None
    finally:
        file.seek(0)
    return Image.MIME.get(kind or "", "application/octet-stream")


def attach_file(target: ServiceRequest | WorkOrder, *, actor: User | None, file, kind: str) -> Attachment:
    """Store a photo, signature or document. Checks the content, not the file name."""
    if kind not in AttachmentKind.values:
        raise field_error("kind", _("Unknown attachment kind."), "invalid_choice")
    if kind in (AttachmentKind.PHOTO, AttachmentKind.SIGNATURE):
        check_image(file, "photos" if kind == AttachmentKind.PHOTO else "signature", PHOTO_LIMIT)
    else:
        check_document(file, "file")
    content_type = _sniff_content_type(file)
    # Stored under a name of our own: the uploader's name may be anything (paths, "x.html").
    file.name = f"{uuid.uuid4().hex}.{EXTENSIONS.get(content_type, 'bin')}"
    owner = {"request": target} if isinstance(target, ServiceRequest) else {"work_order": target}
    return Attachment.objects.create(
        **owner,
        kind=kind,
        file=file,
        size=file.size,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
        content_type=content_type,
    )


def _check_photos(photos) -> list:
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise field_error("photos", _("At most %(n)d photos.") % {"n": MAX_PHOTOS}, "too_many")
    for photo in photos:
        check_image(photo, "photos", PHOTO_LIMIT)
    return photos


@transaction.atomic
def file_request(
    *,
    actor: User,
    channel: str,
    customer: Customer,
    description: str,
    contact: Contact | None = None,
    equipment: Equipment | None = None,
    service_type: str = ServiceType.REPAIR,
    priority: str = Priority.NORMAL,
    urgency: str = "",
    fault_category: FaultCategory | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    photos=(),
) -> ServiceRequest:
    """A request filed by a signed-in user: an agent on the phone, a customer in the portal,
    a provider on a customer's behalf, or an API client. Customers and providers say how urgent
    it is (`urgency`, in their words); only our staff set the priority."""
    require(can(actor, Capability.FILE_REQUESTS))
    if channel not in Channel.values:
        raise field_error("channel", _("Unknown channel."), "invalid_choice")
    if not actor.is_own_staff and priority != Priority.NORMAL:
        raise field_error(
            "priority", _("Our staff set the priority; say how urgent it is instead."), "not_yours_to_set"
        )
    urgency = (urgency or "").strip()
    if len(urgency) > URGENCY_MAX_LENGTH:
        raise field_error("urgency", _("At most %(n)d characters.") % {"n": URGENCY_MAX_LENGTH}, "max_length")
    kind = actor.organisation_kind
    # Only our desk records how a customer reached us; anyone else's request came in by their own door.
    own_door = Channel.PROVIDER if kind == OrganisationKind.PROVIDER else Channel.PORTAL
    if not actor.is_own_staff and not actor.is_superuser and channel not in (own_door, Channel.API):
        raise field_error("channel", _("The channel is decided by where the request is filed."), "invalid_choice")
    if (
        not actor.is_superuser
        and kind == OrganisationKind.CUSTOMER
        and customer.organisation_id != actor.organisation_id
    ):
        raise field_error("customer", _("You can file requests only for your own company."), "invalid_choice")
    if (
        not actor.is_superuser
        and kind == OrganisationKind.PROVIDER
        and customer.service_provider_id != actor.organisation_id
    ):
        raise field_error("customer", _("Your company does not serve this customer."), "invalid_choice")
    description = check_request_fields(
        customer=customer,
        contact=contact,
        equipment=equipment,
        service_type=service_type,
        priority=priority,
        fault_category=fault_category,
        description=description,
    )
    photos = _check_photos(photos)
    request = ServiceRequest.objects.create(
        channel=channel,
        status=RequestStatus.OPEN,
        customer=customer,
        contact=contact,
        equipment=equipment,
        service_type=service_type,
        priority=priority,
        urgency=urgency,
        fault_category=fault_category,
        description=description,
        reporter_name=check_length(
            reporter_name or (contact.name if contact else ""), model=ServiceRequest, field="reporter_name"
        ),
        reporter_phone=normalise_phone(reporter_phone, field="reporter_phone")
        if reporter_phone
        else (contact.phone if contact else ""),
        reporter_email=normalise_email(reporter_email, field="reporter_email"),
        created_by=actor,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
    )
    number_request(request)
    for photo in photos:
        attach_file(request, actor=actor, file=photo, kind=AttachmentKind.PHOTO)
    record_event(request, actor=actor, action="created", related=customer, note=request.get_channel_display())
    return request


@transaction.atomic
def file_consultation(*, actor: User, resolution: str, **fields) -> ServiceRequest:
    """A question answered on the phone: the request is filed and resolved in one go, so a
    failure in either leaves nothing behind. `fields` are those of `file_request`."""
    if not (resolution or "").strip():
        raise field_error("resolution", _("Say how the request was resolved."), "required")
    request = file_request(actor=actor, **fields)
    return resolve_without_visit(request, actor=actor, resolution=resolution)


def _check_rate(equipment: Equipment, ip: str | None) -> None:
    # Reports whose phone was proven by an SMS code are neither counted nor limited: a flood of
    # bogus reports must not lock the real customer out.
    since = timezone.now() - dt.timedelta(hours=1)
    recent = ServiceRequest.objects.filter(channel=Channel.QR, created_at__gte=since, phone_verified=False)
    if recent.filter(equipment=equipment).count() >= QR_REPORTS_PER_TOKEN_PER_HOUR:
        raise DomainError(
            "rate_limited",
            _(
                "This machine was reported several times in the last hour. "
                "We are on it; please call us if it is urgent."
            ),
        )
    if ip and recent.filter(source_ip=ip).count() >= QR_REPORTS_PER_IP_PER_HOUR:
        raise DomainError(
            "rate_limited", _("Too many reports from your network in the last hour. Please try again later or call us.")
        )


PHONE_CODE_TOPIC = "public.phone_code"

# Whether a code can reach a reporter's phone at all. The SMS gateways belong to the notifications
# app, a higher layer, which answers through this hook (registered when it loads); with no answer,
# or no active gateway, no code is offered: a button that sends nothing would only mislead.
_phone_code_channels: list[Callable[[], bool]] = []


def register_phone_code_channel(available: Callable[[], bool]) -> None:
    _phone_code_channels.append(available)


def phone_codes_can_be_sent() -> bool:
    return any(available() for available in _phone_code_channels)


PHONE_CODE_MINUTES = 10
PHONE_CODES_PER_PHONE_PER_HOUR = 3
PHONE_CODES_PER_IP_PER_HOUR = 10


def phone_code_digest(phone: str, code: str) -> str:
    """What is kept of a code (in the reporter's session): never the code itself."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def issue_phone_code(equipment: Equipment, *, phone: str, ip: str | None = None) -> tuple[str, str]:
    """Send a six-digit code by SMS to `phone` (the notifications app sends it after the commit),
    so a QR reporter can prove the phone is theirs. Limited per phone and per address, so the form
    cannot be used to send SMS floods. Returns (the normalised phone, the digest of the code)."""
    if not equipment.is_registered:
        raise field_error("equipment", _("This machine is no longer registered for service."), "not_registered")
    if not phone_codes_can_be_sent():
        raise DomainError("no_sms", _("Codes cannot be sent by SMS at the moment. Please call us."))
    phone = normalise_phone(phone, field="phone")
    since = timezone.now() - dt.timedelta(hours=1)
    recent = OutboxMessage.objects.filter(topic=PHONE_CODE_TOPIC, created_at__gte=since)
    if recent.filter(key__startswith=f"{phone}|").count() >= PHONE_CODES_PER_PHONE_PER_HOUR or (
        ip and recent.filter(key__endswith=f"|{ip}").count() >= PHONE_CODES_PER_IP_PER_HOUR
    ):
        raise DomainError("rate_limited", _("Too many codes were sent in the last hour. Please call us."))
    code = f"{secrets.randbelow(10**6):06d}"
    emit(PHONE_CODE_TOPIC, {"phone": phone, "code": code}, key=f"{phone}|{uuid.uuid4().hex}|{ip or ''}")
    return phone, phone_code_digest(phone, code)


@transaction.atomic
def report_fault_by_qr(
    equipment: Equipment,
    *,
    phone: str,
    description: str,
    name: str = "",
    photos=(),
    ip: str | None = None,
    phone_verified: bool = False,
) -> ServiceRequest:
    """A report from the machine's public page, by anyone holding its QR code. A phone that
    matches one of the customer's contacts links the request to them; otherwise it waits for
    an agent to confirm it. `phone_verified`: the reporter entered the code sent to `phone`."""
    if not equipment.is_registered:
        raise field_error("equipment", _("This machine is no longer registered for service."), "not_registered")
    phone = normalise_phone(phone, field="phone")
    description = check_request_fields(
        customer=equipment.customer,
        contact=None,
        equipment=equipment,
        service_type=ServiceType.REPAIR,
        priority=Priority.NORMAL,
        fault_category=None,
        description=description,
    )
    photos = _check_photos(photos)
    # Serialise reports for one machine so the rate limit holds under concurrent submissions.
    Equipment.objects.select_for_update().filter(pk=equipment.pk).first()
    if not phone_verified:
        _check_rate(equipment, ip)
    contact = equipment.customer.contacts.filter(phone=phone).first()
    request = ServiceRequest.objects.create(
        channel=Channel.QR,
        status=RequestStatus.OPEN if contact else RequestStatus.UNCONFIRMED,
        customer=equipment.customer,
        contact=contact,
        equipment=equipment,
        service_type=ServiceType.REPAIR,
        description=description,
        reporter_name=check_length(
            name or (contact.name if contact else ""), model=ServiceRequest, field="reporter_name", name="name"
        ),
        reporter_phone=phone,
        source_ip=ip,
        phone_verified=phone_verified,
        confirmed_at=timezone.now() if contact else None,
    )
    number_request(request)
    for photo in photos:
        attach_file(request, actor=None, file=photo, kind=AttachmentKind.PHOTO)
    record_event(request, actor=None, action="created", related=equipment.customer, note=Channel.QR.label)
    return request


def _open_request(request: ServiceRequest, allowed: set[str]) -> ServiceRequest:
    locked = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status not in allowed:
        raise DomainError(
            "illegal_transition",
            _("Request %(number)s is %(status)s; this is not possible now.")
            % {"number": locked.number, "status": locked.get_status_display()},
        )
    return locked


@transaction.atomic
def confirm_request(
    request: ServiceRequest, *, actor: User, contact: Contact | None = None, save_reporter_as_contact: bool = False
) -> ServiceRequest:
    """An agent checks an unconfirmed report (unknown phone or sender) and accepts it."""
    require(may_manage_orders(actor))
    request = _open_request(request, {RequestStatus.UNCONFIRMED})
    if request.customer is None:
        raise field_error("customer", _("Choose the customer first."), "required")
    if contact is not None and contact.customer_id != request.customer_id:
        raise field_error("contact", _("The contact belongs to another customer."), "invalid_choice")
    if contact is None and save_reporter_as_contact:
        contact = add_contact(
            request.customer,
            actor=actor,
            name=request.reporter_name or request.reporter_phone,
            phone=request.reporter_phone,
            email=request.reporter_email,
        )
    ServiceRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.OPEN, contact=contact, confirmed_by=actor, confirmed_at=timezone.now()
    )
    request.refresh_from_db()
    record_event(
        request,
        actor=actor,
        action="confirmed",
        related=request.customer,
        changes={"status": [str(RequestStatus.UNCONFIRMED.label), str(RequestStatus.OPEN.label)]},
    )
    return request


@transaction.atomic
def assign_request_customer(
    request: ServiceRequest, *, actor: User, customer: Customer, equipment: Equipment | None = None
) -> ServiceRequest:
    """For a request from an unknown sender (e-mail): say whose it is before confirming it."""
    require(may_manage_orders(actor))
    request = _open_request(request, {RequestStatus.UNCONFIRMED})
    check_request_fields(
        customer=customer,
        contact=None,
        equipment=equipment,
        service_type=request.service_type,
        priority=request.priority,
        fault_category=request.fault_category,
        description=request.description,
    )
    ServiceRequest.objects.filter(pk=request.pk).update(customer=customer, equipment=equipment)
    request.refresh_from_db()
    record_event(request, actor=actor, action="updated", related=customer, changes={"customer": [None, str(customer)]})
    return request


@transaction.atomic
def resolve_without_visit(request: ServiceRequest, *, actor: User, resolution: str) -> ServiceRequest:
    """A consultation answered on the phone: recorded and closed, no work order."""
    require(may_manage_orders(actor))
    resolution = (resolution or "").strip()
    if not resolution:
        raise field_error("resolution", _("Say how the request was resolved."), "required")
    request = _open_request(request, {RequestStatus.OPEN, RequestStatus.UNCONFIRMED})
    ServiceRequest.objects.filter(pk=request.pk).update(status=RequestStatus.RESOLVED, resolution_note=resolution)
    request.refresh_from_db()
    record_event(request, actor=actor, action="resolved", related=request.customer, note=resolution)
    return request


@transaction.atomic
def discard_request(request: ServiceRequest, *, actor: User, reason: str) -> ServiceRequest:
    """Spam, a duplicate, or a report that is not ours."""
    require(may_manage_orders(actor))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason."), "required")
    request = _open_request(request, {RequestStatus.OPEN, RequestStatus.UNCONFIRMED})
    ServiceRequest.objects.filter(pk=request.pk).update(status=RequestStatus.DISCARDED, resolution_note=reason)
    request.refresh_from_db()
    record_event(request, actor=actor, action="discarded", related=request.customer, note=reason)
    return request


@transaction.atomic
def create_work_order(
    request: ServiceRequest,
    *,
    actor: User,
    site: Site | None = None,
    equipment: Equipment | None = None,
    service_type: str | None = None,
    priority: str | None = None,
    description: str | None = None,
) -> WorkOrder:
    """A visit for an open request. A request may need several (one per machine or trip)."""
    require(may_manage_orders(actor))
    request = _open_request(request, {RequestStatus.OPEN, RequestStatus.CONVERTED})
    equipment = equipment if equipment is not None else request.equipment
    service_type = service_type or request.service_type
    if service_type == ServiceType.CONSULTATION:
        raise field_error(
            "service_type", _("A consultation needs no visit; resolve the request instead."), "no_visit_needed"
        )
    description = check_request_fields(
        customer=request.customer,
        contact=request.contact,
        equipment=equipment,
        service_type=service_type,
        priority=priority or request.priority,
        fault_category=request.fault_category,
        description=description if description is not None else request.description,
    )
    site = site or (equipment.site if equipment else None)
    if site is None:
        site = request.customer.sites.filter(is_active=True).order_by("pk").first()
    if site is not None and site.customer_id != request.customer_id:
        raise field_error("site", _("The site belongs to another customer."), "invalid_choice")
    entitlement = decide_entitlement(
        customer=request.customer, equipment=equipment, priority=priority or request.priority
    )
    if request.status != RequestStatus.CONVERTED:
        ServiceRequest.objects.filter(pk=request.pk).update(status=RequestStatus.CONVERTED)
    # The one writer of new orders: number, usual parts, log line, hooks, outbox message.
    values = {
        "request_id": request.pk,
        "customer_id": request.customer_id,
        "site_id": site.pk if site is not None else None,
        "equipment_id": equipment.pk if equipment is not None else None,
        "service_type": service_type,
        "priority": priority or request.priority,
        "fault_category_id": request.fault_category_id,
        "description": description,
        **entitled(entitlement),
    }
    (order,) = write_orders([OrderDraft(values, note=request.number or "")], actor=actor)
    return order
