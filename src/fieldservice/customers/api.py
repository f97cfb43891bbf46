"""HTTP API for customers, their contacts and sites (mounted under /api/v1/)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.permissions import Capability, can
from fieldservice.accounts.selectors import providers_for, users_for
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.customers import services
from fieldservice.customers.models import Contact, Customer, Site
from fieldservice.customers.selectors import (
    contacts_for,
    get_contact_for,
    get_customer_for,
    get_site_for,
    search_customers,
    search_sites,
)

router = Router(tags=["customers"])


# Schemas. In the Patch schemas a field typed without None but defaulting to None may be left out
# (exclude_unset drops it) but not sent as null: null would blank a required value.


class CustomerOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    tier: str
    industry: str
    organisation: int = Field(validation_alias="organisation_id")
    service_provider: int | None = Field(validation_alias="service_provider_id")
    service_provider_name: str | None
    account_owner: int | None = Field(validation_alias="account_owner_id")
    notes: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_service_provider_name(obj) -> str | None:
        return obj.service_provider.name if obj.service_provider_id else None


class CustomerIn(StrictSchema):
    __model__ = Customer
    code: str = ""
    name: str
    kind: str = "company"
    tier: str = "standard"
    industry: str = ""
    service_provider: Id | None = None
    account_owner: Id | None = None
    notes: str = ""


class CustomerPatch(StrictSchema):
    __model__ = Customer
    code: str = None
    name: str = None
    kind: str = None
    tier: str = None
    industry: str = None
    service_provider: Id | None = None
    account_owner: Id | None = None
    notes: str = None
    is_active: bool = None


class ContactOut(Schema):
    id: int
    customer: int = Field(validation_alias="customer_id")
    name: str
    title: str
    phone: str
    email: str
    wechat_id: str
    is_primary: bool


class ContactIn(StrictSchema):
    __model__ = Contact
    name: str
    phone: str
    title: str = ""
    email: str = ""
    wechat_id: str = ""
    is_primary: bool = False


class ContactPatch(StrictSchema):
    __model__ = Contact
    name: str = None
    phone: str = None
    title: str = None
    email: str = None
    wechat_id: str = None
    is_primary: bool = None


class SiteOut(Schema):
    id: int
    customer: int = Field(validation_alias="customer_id")
    customer_name: str
    customer_code: str
    name: str
    address: str
    province: str
    city: str
    district: str
    latitude: float | None
    longitude: float | None
    contact: int | None = Field(validation_alias="contact_id")
    is_active: bool

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_customer_code(obj) -> str:
        return obj.customer.code

    @staticmethod
    def resolve_latitude(obj) -> float | None:
        return float(obj.latitude) if obj.latitude is not None else None

    @staticmethod
    def resolve_longitude(obj) -> float | None:
        return float(obj.longitude) if obj.longitude is not None else None


class SiteIn(StrictSchema):
    __model__ = Site
    name: str
    address: str
    province: str = ""
    city: str = ""
    district: str = ""
    # Strings are accepted too so the service, not the schema, reports a bad coordinate on its field.
    latitude: float | str | None = None
    longitude: float | str | None = None
    contact: Id | None = None


class SitePatch(StrictSchema):
    __model__ = Site
    name: str = None
    address: str = None
    province: str = None
    city: str = None
    district: str = None
    latitude: float | str | None = None
    longitude: float | str | None = None
    contact: Id | None = None
    is_active: bool = None


# Foreign keys arrive as ids. An id the user cannot see is reported on its field like any
# other bad value (422), so a client cannot tell "missing" from "not yours".


def _lookup(queryset, pk, field: str):
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: _("There is nothing with id %(id)s here.") % {"id": pk}}, code="does_not_exist")
    return obj


def _customer_fields(user, data: dict) -> dict:
    if "service_provider" in data:
        data["service_provider"] = _lookup(providers_for(user), data["service_provider"], "service_provider")
    if "account_owner" in data:
        owners = users_for(user).filter(organisation__kind=OrganisationKind.OWN)
        data["account_owner"] = _lookup(owners, data["account_owner"], "account_owner")
    return data


def _site_fields(user, data: dict) -> dict:
    if "contact" in data:
        data["contact"] = _lookup(contacts_for(user), data["contact"], "contact")
    return data


def _require_change(user) -> None:
    # Checked before foreign keys are looked up, so a role that may not change gets 403, not 422.
    require(services.can_change_customers(user))


# Customers


@router.get("/customers", response=list[CustomerOut])
@paginate(PageNumberPagination, page_size=50)
def list_customers(
    request, q: str = "", tier: str | None = None, kind: str | None = None, service_provider: Id | None = None
):
    require(can(request.user, Capability.VIEW_CUSTOMERS))
    customers = search_customers(request.user, q)
    if tier:
        customers = customers.filter(tier=tier)
    if kind:
        customers = customers.filter(kind=kind)
    if service_provider is not None:
        customers = customers.filter(service_provider_id=service_provider)
    return customers


@router.post("/customers", response={201: CustomerOut})
@idempotent
def create_customer(request, payload: CustomerIn):
    _require_change(request.user)
    fields = _customer_fields(request.user, payload.model_dump())
    return 201, services.create_customer(actor=request.user, **fields)


@router.get("/customers/{int:customer_id}", response=CustomerOut)
def get_customer(request, customer_id: Id):
    return get_customer_for(request.user, customer_id)


@router.patch("/customers/{int:customer_id}", response=CustomerOut)
def update_customer(request, customer_id: Id, payload: CustomerPatch):
    customer = get_customer_for(request.user, customer_id)
    _require_change(request.user)
    fields = _customer_fields(request.user, payload.model_dump(exclude_unset=True))
    return services.update_customer(customer, actor=request.user, **fields)


# Contacts


@router.get("/customers/{int:customer_id}/contacts", response=list[ContactOut])
def list_contacts(request, customer_id: Id):
    customer = get_customer_for(request.user, customer_id)
    return contacts_for(request.user).filter(customer=customer)


@router.post("/customers/{int:customer_id}/contacts", response={201: ContactOut})
@idempotent
def add_contact(request, customer_id: Id, payload: ContactIn):
    customer = get_customer_for(request.user, customer_id)
    _require_change(request.user)
    return 201, services.add_contact(customer, actor=request.user, **payload.model_dump())


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
def update_contact(request, contact_id: Id, payload: ContactPatch):
    contact = get_contact_for(request.user, contact_id)
    _require_change(request.user)
    return services.update_contact(contact, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.delete("/contacts/{int:contact_id}", response={204: None})
def remove_contact(request, contact_id: Id):
    contact = get_contact_for(request.user, contact_id)
    _require_change(request.user)
    services.remove_contact(contact, actor=request.user)
    return 204, None


# Sites


@router.get("/sites", response=list[SiteOut])
@paginate(PageNumberPagination, page_size=50)
def list_sites(request, q: str = "", customer: Id | None = None, city: str | None = None):
    require(can(request.user, Capability.VIEW_CUSTOMERS))
    sites = search_sites(request.user, q)
    if customer is not None:
        sites = sites.filter(customer_id=customer)
    if city:
        sites = sites.filter(city__iexact=city.strip())
    return sites


@router.post("/customers/{int:customer_id}/sites", response={201: SiteOut})
@idempotent
def create_site(request, customer_id: Id, payload: SiteIn):
    customer = get_customer_for(request.user, customer_id)
    _require_change(request.user)
    fields = _site_fields(request.user, payload.model_dump())
    return 201, services.create_site(customer, actor=request.user, **fields)


@router.get("/sites/{int:site_id}", response=SiteOut)
def get_site(request, site_id: Id):
    return get_site_for(request.user, site_id)


@router.patch("/sites/{int:site_id}", response=SiteOut)
def update_site(request, site_id: Id, payload: SitePatch):
    site = get_site_for(request.user, site_id)
    _require_change(request.user)
    fields = _site_fields(request.user, payload.model_dump(exclude_unset=True))
    return services.update_site(site, actor=request.user, **fields)
