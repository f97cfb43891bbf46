"""Demo contracts over the demo customers and machines (called by `fsm demo` after the SLA
policies exist). Everything goes through the services, so each contract has its history."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.contracts import services
from fieldservice.contracts.choices import LIVE_STATUSES, ContractLevel, PartsCoverage, PriceItemKind
from fieldservice.contracts.models import Contract, PriceList, SlaPolicy
from fieldservice.customers.models import Customer
from fieldservice.inventory.models import Part

LEVEL_FEES = {ContractLevel.GOLD: Decimal("48000"), ContractLevel.SILVER: Decimal("26000")}
LEVEL_FEES[ContractLevel.BASIC] = Decimal("12000")


def _admin() -> User | None:
    return (
        User.objects.filter(username="admin").first()
        or User.objects.filter(roles__role=Role.ADMINISTRATOR).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )


def _policy(level: str):
    policies = SlaPolicy.objects.filter(is_active=True)
    # The strictest-sounding policy for gold, the default for the rest.
    if level == ContractLevel.GOLD:
        chosen = policies.filter(customer_tier="strategic").first() or policies.filter(customer_tier="key").first()
        if chosen is not None:
            return chosen
    return policies.filter(is_default=True).first() or policies.order_by("pk").first()


def _price_list(admin: User, rng: random.Random) -> PriceList:
    price_list = PriceList.objects.filter(is_default=True).first()
    if price_list is None:
        price_list = services.create_price_list(
            actor=admin, name="标准服务价格 Standard service prices", is_default=True
        )
    services.set_price(price_list, actor=admin, kind=PriceItemKind.LABOUR_HOUR, unit_price=Decimal("280.00"))
    services.set_price(price_list, actor=admin, kind=PriceItemKind.CALL_OUT, unit_price=Decimal("300.00"))
    parts = list(Part.objects.filter(is_active=True).order_by("part_number")[:40])
    for part in rng.sample(parts, min(12, len(parts))):
        price = Decimal(rng.choice([45, 80, 120, 260, 480, 950, 1800, 3600])) + Decimal("0.00")
        services.set_price(price_list, actor=admin, kind=PriceItemKind.PART, part=part, unit_price=price)
    return price_list


def _free_machines(customer: Customer, rng: random.Random, most: int) -> list[Equipment]:
    covered = Contract.equipment.through.objects.filter(contract__status__in=list(LIVE_STATUSES)).values("equipment_id")
    machines = list(
        customer.equipment.filter(status=EquipmentStatus.REGISTERED, parent__isnull=True)
        .exclude(pk__in=covered)
        .order_by("pk")
    )
    rng.shuffle(machines)
    return sorted(machines[: rng.randint(1, most)], key=lambda machine: machine.pk)


def seed(*, rng: random.Random, now: dt.datetime) -> list[Contract]:
    """A default price list and a handful of contracts: active gold and silver ones, one ending
    within 30 days, one expired period already extended into the current one, and a draft."""
    admin = _admin()
    if admin is None or _policy(ContractLevel.SILVER) is None:
        return []  # no administrator or no SLA policy yet: nothing to attach contracts to
    today = timezone.localdate(now) if timezone.is_aware(now) else now.date()
    price_list = _price_list(admin, rng)
    customers = [
        customer
        for customer in Customer.objects.filter(is_active=True).order_by("pk")
        if customer.equipment.filter(status=EquipmentStatus.REGISTERED).exists()
    ]
    rng.shuffle(customers)
    made: list[Contract] = []

    def contract(customer, level, starts_on, ends_on, *, visits=None, most=3, activate=True):
        machines = _free_machines(customer, rng, most)
        if not machines:
            return None
        new = services.create_contract(
            actor=admin,
            customer=customer,
            starts_on=starts_on,
            ends_on=ends_on,
            equipment=machines,
            level=level,
            sla_policy=_policy(level),
            included_visits=visits,
            parts_coverage=PartsCoverage.WEAR_EXCLUDED if level == ContractLevel.GOLD else PartsCoverage.NONE,
            labour_covered=level != ContractLevel.BASIC,
            price_list=price_list,
            annual_fee=LEVEL_FEES[level],
            currency="CNY",
        )
        if activate:
            services.activate_contract(new, actor=admin, today=starts_on)
        made.append(new)
        return new

    plans = [
        # Gold, full year, well within its term.
        (ContractLevel.GOLD, today - dt.timedelta(days=120), today + dt.timedelta(days=245), None),
        # Silver, ending within 30 days: the renewal list and reminders show it.
        (ContractLevel.SILVER, today - dt.timedelta(days=340), today + dt.timedelta(days=24), 4),
        # Basic with a few visits, a fresh one.
        (ContractLevel.BASIC, today - dt.timedelta(days=30), today + dt.timedelta(days=334), 2),
        (ContractLevel.SILVER, today - dt.timedelta(days=200), today + dt.timedelta(days=165), 6),
    ]
    for (level, starts_on, ends_on, visits), customer in zip(plans, customers, strict=False):
        contract(customer, level, starts_on, ends_on, visits=visits)

    rest = customers[len(plans) :]
    if rest:
        # Last year's period, expired and extended into this year's.
        old = contract(
            rest[0], ContractLevel.SILVER, today - dt.timedelta(days=500), today - dt.timedelta(days=136), visits=4
        )
        if old is not None:
            services.expire_contracts(today=today)
            extension = services.extend_contract(
                old,
                actor=admin,
                ends_on=today + dt.timedelta(days=229),
                level=ContractLevel.GOLD,
                sla_policy=_policy(ContractLevel.GOLD),
                annual_fee=LEVEL_FEES[ContractLevel.GOLD],
            )
            services.activate_contract(extension, actor=admin, today=today)
            made.append(extension)
    if len(rest) > 1:
        # A proposal still being negotiated.
        contract(
            rest[1], ContractLevel.GOLD, today + dt.timedelta(days=14), today + dt.timedelta(days=378), activate=False
        )
    return made
