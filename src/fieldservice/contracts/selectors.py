"""What each user may see of contracts and price lists. Every list and lookup goes through here.

Our staff with the capability see every contract; a customer's users see their company's
contracts once they are offered (not drafts); service providers see none: contracts are an
agreement between us and the customer, and a provider learns what a visit is entitled to from
the work order."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.assets.selectors import equipment_for
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract, ExpiryReminder, PriceList, PriceListItem
from fieldservice.core.choices import WorkOrderStatus


def contracts_for(actor: User) -> QuerySet[Contract]:
    contracts = Contract.objects.select_related("customer", "sla_policy", "price_list", "previous")
    if not can(actor, Capability.VIEW_CONTRACTS):
        return contracts.none()
    if actor.is_own_staff:
        return contracts
    if actor.organisation_kind == OrganisationKind.CUSTOMER:
        return contracts.filter(customer__organisation_id=actor.organisation_id).exclude(status=ContractStatus.DRAFT)
    return contracts.none()


def get_contract_for(actor: User, pk: int) -> Contract:
    return get_object_or_404(contracts_for(actor), pk=pk)


def search_contracts(actor: User, text: str = "") -> QuerySet[Contract]:
    contracts = contracts_for(actor)
    text = (text or "").strip()
    if text:
        contracts = contracts.filter(
            Q(number__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(customer__code__icontains=text)
            | Q(equipment__serial_number__icontains=text)
        ).distinct()
    return contracts


def with_visits_used(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    return contracts.annotate(
        used_visits=Count("work_orders", filter=~Q(work_orders__status=WorkOrderStatus.CANCELLED), distinct=True),
        machine_count=Count("equipment", distinct=True),
    )


def filter_contracts(
    contracts: QuerySet[Contract],
    *,
    status: str = "",
    level: str = "",
    expiring_within: int | None = None,
    customer: int | None = None,
    today: dt.date | None = None,
) -> QuerySet[Contract]:
    if status:
        contracts = contracts.filter(status=status)
    if level:
        contracts = contracts.filter(level=level)
    if customer:
        contracts = contracts.filter(customer_id=customer)
    if expiring_within is not None:
        today = today or timezone.localdate()
        contracts = contracts.filter(
            status=ContractStatus.ACTIVE,
            ends_on__gte=today,
            ends_on__lte=today + dt.timedelta(days=expiring_within),
        )
    return contracts


def contract_list_for(actor: User, text: str = "", **filters) -> QuerySet[Contract]:
    return with_visits_used(filter_contracts(search_contracts(actor, text), **filters)).order_by("-starts_on", "-pk")


def contracts_of_equipment(actor: User, equipment: Equipment) -> QuerySet[Contract]:
    return contracts_for(actor).filter(equipment=equipment).order_by("-starts_on", "-pk")


def expiring_contracts(actor: User, days: int, today: dt.date | None = None) -> QuerySet[Contract]:
    today = today or timezone.localdate()
    return with_visits_used(
        contracts_for(actor).filter(
            status=ContractStatus.ACTIVE, ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=days)
        )
    ).order_by("ends_on", "pk")


def expiring_warranties(actor: User, days: int, today: dt.date | None = None) -> QuerySet[Equipment]:
    """Registered machines whose warranty ends in the next `days` days, for whoever may see
    contracts (renewal sales) and the machine."""
    if not can(actor, Capability.VIEW_CONTRACTS):
        return Equipment.objects.none()
    today = today or timezone.localdate()
    return (
        equipment_for(actor)
        .filter(
            status=EquipmentStatus.REGISTERED,
            warranty_ends_on__gte=today,
            warranty_ends_on__lte=today + dt.timedelta(days=days),
        )
        .order_by("warranty_ends_on", "pk")
    )


def reminders_of(contract: Contract) -> QuerySet[ExpiryReminder]:
    return contract.reminders.all()


def _visible_price_lists(actor: User) -> QuerySet[PriceList]:
    """Prices are our business: own staff who may see contracts."""
    if not (can(actor, Capability.VIEW_CONTRACTS) and actor.is_own_staff):
        return PriceList.objects.none()
    return PriceList.objects.all()


def price_lists_for(actor: User) -> QuerySet[PriceList]:
    return _visible_price_lists(actor).annotate(item_count=Count("items")).order_by("-is_default", "name")


def get_price_list_for(actor: User, pk: int) -> PriceList:
    return get_object_or_404(price_lists_for(actor), pk=pk)


def price_items_for(actor: User) -> QuerySet[PriceListItem]:
    return PriceListItem.objects.select_related("price_list", "part").filter(price_list__in=_visible_price_lists(actor))


def get_price_item_for(actor: User, pk: int) -> PriceListItem:
    return get_object_or_404(price_items_for(actor), pk=pk)
