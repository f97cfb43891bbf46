"""Business rules for customers, their contacts and sites."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.db import write_checked
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_coordinates, normalise_email, normalise_phone
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.models import Contact, Customer, Site

CUSTOMER_FIELDS = [
    "code",
    "name",
    "kind",
    "tier",
    "industry",
    "service_provider",
    "account_owner",
    "notes",
    "is_active",
]
CONTACT_FIELDS = ["name", "title", "phone", "email", "wechat_id", "is_primary"]
SITE_FIELDS = [
    "name",
    "address",
    "province",
    "city",
    "district",
    "latitude",
    "longitude",
    "contact",
    "is_active",
]


def can_change_customers(actor: User) -> bool:
    """Only our own staff change customer data; partners and customers only read it."""
    return can(actor, Capability.CHANGE_CUSTOMERS) and actor.is_own_staff


_may_change = can_change_customers


def _text(value, field: str, *, required: bool = False, max_length: int = 200) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not text:
        raise field_error(field, _("This field is required."), "required")
    if len(text) > max_length:
        raise field_error(field, _("At most %(n)d characters.") % {"n": max_length}, "max_length")
    return text


def _check_customer_fields(fields: dict) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            cleaned[name] = _text(value, "name", required=True)
        elif name == "code":
            cleaned[name] = _text(value, "code", max_length=32).upper()
        elif name == "kind":
            if value not in CustomerKind.values:
                raise field_error("kind", _("Choose company or person."), "invalid_choice")
            cleaned[name] = value
        elif name == "tier":
            if value not in CustomerTier.values:
                raise field_error("tier", _("Unknown customer tier."), "invalid_choice")
            cleaned[name] = value
        elif name in {"industry"}:
            cleaned[name] = _text(value, name, max_length=100)
        elif name == "notes":
            cleaned[name] = _text(value, name, max_length=5000)
        elif name == "service_provider":
            if value is not None and value.kind != OrganisationKind.PROVIDER:
                raise field_error("service_provider", _("Choose a service provider organisation."), "invalid_choice")
            cleaned[name] = value
        elif name == "account_owner":
            if value is not None and not value.is_own_staff:
                raise field_error("account_owner", _("The account owner must be one of our staff."), "invalid_choice")
            cleaned[name] = value
        elif name == "is_active":
            cleaned[name] = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    return cleaned


def _next_customer_code() -> str:
    # Codes typed by hand (or imported) may already use the next number; skip past them.
    number = (Customer.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    while Customer.objects.filter(code=f"C{number:06d}").exists():
        number += 1
    return f"C{number:06d}"


def _organisation_name(name: str, code: str, *, exclude_pk: int | None = None) -> str:
    """A free name for a customer's organisation: two customers may share a name (two people
    called 王伟), their organisations may not, so a clash gets the customer code appended."""
    taken = Organisation.objects.filter(kind=OrganisationKind.CUSTOMER)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    max_length = Organisation._meta.get_field("name").max_length
    candidate, attempt = name, 0
    while taken.filter(name=candidate).exists():
        attempt += 1
        suffix = f" ({code})" if attempt == 1 else f" ({code}-{attempt})"
        candidate = name[: max_length - len(suffix)] + suffix
    return candidate


@transaction.atomic
def create_customer(
    *, actor: User, name: str, kind: str = CustomerKind.COMPANY, tier: str = CustomerTier.STANDARD, **fields
) -> Customer:
    """Create a customer and its organisation. A blank code is numbered automatically."""
    require(_may_change(actor))
    cleaned = _check_customer_fields({"name": name, "kind": kind, "tier": tier, **fields})
    code = cleaned.pop("code", "")
    if code and Customer.objects.filter(code=code).exists():
        raise field_error("code", _("Customer code %(code)s is taken.") % {"code": code}, "duplicate")
    for _attempt in range(5):
        number = code or _next_customer_code()
        try:
            with transaction.atomic():
                organisation = Organisation.objects.create(
                    name=_organisation_name(cleaned["name"], number), kind=OrganisationKind.CUSTOMER
                )
                customer = Customer.objects.create(code=number, organisation=organisation, **cleaned)
            break
        except IntegrityError:
            # A concurrent create took the number or the organisation name; try the next one.
            if code and Customer.objects.filter(code=code).exists():
                raise field_error("code", _("Customer code %(code)s is taken.") % {"code": code}, "duplicate") from None
    else:  # pragma: no cover - five concurrent creators in a row
        raise field_error("code", _("Could not number the customer; try again."), "conflict")
    record_created(customer, actor=actor, fields=CUSTOMER_FIELDS)
    return customer


@transaction.atomic
def update_customer(customer: Customer, *, actor: User, **fields) -> Customer:
    require(_may_change(actor))
    cleaned = _check_customer_fields(fields)
    if "code" in cleaned:
        if not cleaned["code"]:
            raise field_error("code", _("This field is required."), "required")
        if Customer.objects.filter(code=cleaned["code"]).exclude(pk=customer.pk).exists():
            raise field_error("code", _("Customer code %(code)s is taken.") % {"code": cleaned["code"]}, "duplicate")
    before = snapshot(customer, CUSTOMER_FIELDS)
    for name, value in cleaned.items():
        setattr(customer, name, value)
    customer.save()
    if "name" in cleaned and customer.organisation.name != customer.name:
        customer.organisation.name = _organisation_name(
            customer.name, customer.code, exclude_pk=customer.organisation_id
        )
        customer.organisation.save(update_fields=["name"])
    record_updated(customer, actor=actor, before=before)
    return customer


def _check_contact_fields(customer: Customer, fields: dict, *, contact: Contact | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            cleaned[name] = _text(value, "name", required=True, max_length=100)
        elif name == "title":
            cleaned[name] = _text(value, "title", max_length=100)
        elif name == "phone":
            cleaned[name] = normalise_phone(value, field="phone")
        elif name == "email":
            cleaned[name] = normalise_email(value, field="email")
        elif name == "wechat_id":
            cleaned[name] = _text(value, "wechat_id", max_length=64)
        elif name == "is_primary":
            cleaned[name] = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    if "phone" in cleaned:
        clash = customer.contacts.filter(phone=cleaned["phone"])
        if contact is not None:
            clash = clash.exclude(pk=contact.pk)
        if clash.exists():
            raise field_error("phone", _("This customer already has a contact with this phone number."), "duplicate")
    return cleaned


@transaction.atomic
def add_contact(customer: Customer, *, actor: User, name: str, phone: str, **fields) -> Contact:
    require(_may_change(actor))
    cleaned = _check_contact_fields(customer, {"name": name, "phone": phone, **fields})
    if cleaned.get("is_primary") or not customer.contacts.exists():
        customer.contacts.update(is_primary=False)
        cleaned["is_primary"] = True
    contact = write_checked(
        lambda: Contact.objects.create(customer=customer, **cleaned),
        recheck=lambda: _check_contact_fields(customer, {"phone": cleaned["phone"]}),
    )
    record_created(contact, actor=actor, fields=CONTACT_FIELDS, related=customer)
    return contact


@transaction.atomic
def update_contact(contact: Contact, *, actor: User, **fields) -> Contact:
    require(_may_change(actor))
    cleaned = _check_contact_fields(contact.customer, fields, contact=contact)
    if cleaned.get("is_primary") is False and contact.is_primary:
        # A customer with contacts always has one primary contact; it moves, it is not switched off.
        raise field_error("is_primary", _("Make another contact the primary contact instead."), "primary_required")
    before = snapshot(contact, CONTACT_FIELDS)
    if cleaned.get("is_primary"):
        contact.customer.contacts.exclude(pk=contact.pk).update(is_primary=False)
    for name, value in cleaned.items():
        setattr(contact, name, value)
    contact.save()
    record_updated(contact, actor=actor, before=before, related=contact.customer)
    return contact


@transaction.atomic
def remove_contact(contact: Contact, *, actor: User) -> None:
    require(_may_change(actor))
    customer = contact.customer
    record_event(
        contact,
        actor=actor,
        action="deleted",
        related=customer,
        changes={"name": [contact.name, None], "phone": [contact.phone, None]},
    )
    was_primary = contact.is_primary
    contact.delete()
    if was_primary:
        successor = customer.contacts.order_by("name", "pk").first()
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])


def _check_site_fields(customer: Customer, fields: dict, *, site: Site | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            cleaned[name] = _text(value, "name", required=True)
        elif name == "address":
            cleaned[name] = _text(value, "address", required=True, max_length=300)
        elif name in {"province", "city", "district"}:
            cleaned[name] = _text(value, name, max_length=50)
        elif name == "contact":
            if value is not None and value.customer_id != customer.pk:
                raise field_error("contact", _("The contact must belong to this customer."), "invalid")
            cleaned[name] = value
        elif name == "is_active":
            cleaned[name] = bool(value)
        elif name not in {"latitude", "longitude"}:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    if "latitude" in fields or "longitude" in fields:
        latitude = fields.get("latitude", site.latitude if site else None)
        longitude = fields.get("longitude", site.longitude if site else None)
        cleaned["latitude"], cleaned["longitude"] = check_coordinates(latitude, longitude)
    if "name" in cleaned:
        clash = customer.sites.filter(name=cleaned["name"])
        if site is not None:
            clash = clash.exclude(pk=site.pk)
        if clash.exists():
            raise field_error("name", _("This customer already has a site with this name."), "duplicate")
    return cleaned


@transaction.atomic
def create_site(customer: Customer, *, actor: User, name: str, address: str, **fields) -> Site:
    require(_may_change(actor))
    cleaned = _check_site_fields(customer, {"name": name, "address": address, **fields})
    site = write_checked(
        lambda: Site.objects.create(customer=customer, **cleaned),
        recheck=lambda: _check_site_fields(customer, {"name": cleaned["name"]}),
    )
    record_created(site, actor=actor, fields=SITE_FIELDS, related=customer)
    return site


@transaction.atomic
def update_site(site: Site, *, actor: User, **fields) -> Site:
    require(_may_change(actor))
    cleaned = _check_site_fields(site.customer, fields, site=site)
    before = snapshot(site, SITE_FIELDS)
    for name, value in cleaned.items():
        setattr(site, name, value)
    site.save()
    record_updated(site, actor=actor, before=before, related=site.customer)
    return site
