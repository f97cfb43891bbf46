"""What each user may see of customers, contacts and sites. Every list and lookup goes through here."""

import re

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.customers.models import Contact, Customer, Site


def customers_for(actor: User) -> QuerySet[Customer]:
    """Own staff with the capability: all; a provider: the customers it serves; a customer: itself."""
    customers = Customer.objects.select_related("service_provider", "account_owner")
    if not can(actor, Capability.VIEW_CUSTOMERS):
        return customers.none()
    if actor.is_own_staff:
        return customers
    if actor.organisation_kind == OrganisationKind.PROVIDER:
        return customers.filter(service_provider_id=actor.organisation_id)
    if actor.organisation_kind == OrganisationKind.CUSTOMER:
        return customers.filter(organisation_id=actor.organisation_id)
    return customers.none()


def search_customers(actor: User, text: str = "") -> QuerySet[Customer]:
    customers = customers_for(actor)
    text = (text or "").strip()
    if text:
        condition = Q(name__icontains=text) | Q(code__icontains=text) | Q(contacts__name__icontains=text)
        # Phones are stored as +8613812345678; people type "138 1234-5678".
        digits = re.sub(r"[\s\-().]", "", text)
        if digits:
            condition |= Q(contacts__phone__contains=digits)
        customers = customers.filter(condition).distinct()
    return customers


def customer_list_for(actor: User, text: str = "") -> QuerySet[Customer]:
    # Grouping drops the model's default ordering; pages need a stable one.
    return (
        search_customers(actor, text)
        .annotate(site_count=Count("sites", distinct=True), equipment_count=Count("equipment", distinct=True))
        .order_by("name", "pk")
    )


def get_customer_for(actor: User, pk: int) -> Customer:
    return get_object_or_404(customers_for(actor), pk=pk)


def contacts_for(actor: User) -> QuerySet[Contact]:
    return Contact.objects.select_related("customer").filter(customer__in=customers_for(actor))


def get_contact_for(actor: User, pk: int) -> Contact:
    return get_object_or_404(contacts_for(actor), pk=pk)


def sites_for(actor: User) -> QuerySet[Site]:
    return Site.objects.select_related("customer", "contact").filter(customer__in=customers_for(actor))


def get_site_for(actor: User, pk: int) -> Site:
    return get_object_or_404(sites_for(actor), pk=pk)


def search_sites(actor: User, text: str = "") -> QuerySet[Site]:
    sites = sites_for(actor)
    text = (text or "").strip()
    if text:
        sites = sites.filter(
            Q(name__icontains=text)
            | Q(address__icontains=text)
            | Q(city__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(customer__code__icontains=text)
        )
    return sites
