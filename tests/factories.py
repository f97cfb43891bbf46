"""Test data built through the services, so tests start from states the product can reach.

Every builder takes an optional `actor`; by default a superuser does the work.
"""

import itertools
from decimal import Decimal

from fieldservice.accounts import services as account_services
from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import Organisation, Skill, User
from fieldservice.assets import services as asset_services
from fieldservice.customers import services as customer_services
from fieldservice.inventory import services as inventory_services

_seq = itertools.count(1)


def seq() -> int:
    return next(_seq)


def system_user() -> User:
    user, created = User.objects.get_or_create(username="system-test-root", defaults={"is_superuser": True})
    if created:
        user.set_unusable_password()
        user.save()
    return user


def organisation(kind: str = OrganisationKind.PROVIDER, name: str | None = None) -> Organisation:
    return Organisation.objects.create(kind=kind, name=name or f"Org {kind} {seq()}")


def own_company() -> Organisation:
    org, _ = Organisation.objects.get_or_create(kind=OrganisationKind.OWN, name="Our Company")
    return org


def user(
    *roles: str,
    organisation: Organisation | None = None,
    username: str | None = None,
    password: str = "pw-for-tests-1",
    **fields,
) -> User:
    if organisation is None:
        organisation = own_company()
    return account_services.create_user(
        actor=None,
        username=username or f"user{seq()}",
        organisation=organisation,
        roles=roles,
        password=password,
        **fields,
    )


def skill(code: str | None = None, name: str | None = None) -> Skill:
    code = code or f"skill-{seq()}"
    return Skill.objects.get_or_create(code=code, defaults={"name": name or code})[0]


def engineer(organisation: Organisation | None = None, *, skills: dict | None = None, actor=None, **profile):
    person = user(Role.ENGINEER, organisation=organisation)
    account_services.save_engineer_profile(person, actor=actor or system_user(), skills=skills or {}, **profile)
    return person


def customer(actor=None, **fields):
    fields.setdefault("name", f"Customer {seq()}")
    return customer_services.create_customer(actor=actor or system_user(), **fields)


def contact(customer_obj, actor=None, **fields):
    fields.setdefault("name", f"Contact {seq()}")
    fields.setdefault("phone", f"+86138{seq():08d}")
    return customer_services.add_contact(customer_obj, actor=actor or system_user(), **fields)


def site(customer_obj, actor=None, **fields):
    fields.setdefault("name", f"Site {seq()}")
    fields.setdefault("address", "No. 1 Test Road, Ningbo")
    fields.setdefault("latitude", Decimal("29.868336"))
    fields.setdefault("longitude", Decimal("121.543990"))
    return customer_services.create_site(customer_obj, actor=actor or system_user(), **fields)


def part(actor=None, **fields):
    number = seq()
    fields.setdefault("part_number", f"P-{number:05d}")
    fields.setdefault("name", f"Part {number}")
    return inventory_services.create_part(actor=actor or system_user(), **fields)


def product_model(actor=None, bom: list | None = None, **fields):
    number = seq()
    fields.setdefault("code", f"PM-{number}")
    fields.setdefault("name", f"Model {number}")
    model = asset_services.create_product_model(actor=actor or system_user(), **fields)
    if bom:
        asset_services.set_bom(model, actor=actor or system_user(), lines=bom)
    return model


def equipment(customer_obj=None, actor=None, **fields):
    customer_obj = customer_obj or customer()
    if "product_model" not in fields:
        fields["product_model"] = product_model()
    fields.setdefault("serial_number", f"SN{seq():07d}")
    return asset_services.register_equipment(actor=actor or system_user(), customer=customer_obj, **fields)


def fault_category(code: str | None = None, **fields):
    from fieldservice.workorders.models import FaultCategory

    code = code or f"fault-{seq()}"
    fields.setdefault("name", code)
    return FaultCategory.objects.get_or_create(code=code, defaults=fields)[0]


def service_request(customer_obj=None, actor=None, **fields):
    from fieldservice.workorders.services.intake import file_request

    customer_obj = customer_obj or customer()
    fields.setdefault("channel", "phone")
    fields.setdefault("description", "Hydraulic oil temperature alarm")
    return file_request(actor=actor or system_user(), customer=customer_obj, **fields)


def work_order(customer_obj=None, actor=None, **fields):
    """A NEW work order for a machine at a site of the customer (all made if not given)."""
    from fieldservice.workorders.services.intake import create_work_order

    customer_obj = customer_obj or customer()
    if "equipment" not in fields:
        fields["equipment"] = equipment(customer_obj, site=site(customer_obj))
    request = service_request(customer_obj, actor=actor, equipment=fields.pop("equipment"))
    return create_work_order(request, actor=actor or system_user(), **fields)


# --- webhooks ---


def webhook_subscription(actor=None, **fields):
    """An active subscription to every event. The default address is a documentation network
    (nothing answers there): pass `url=` for a test that sends."""
    from fieldservice.webhooks.choices import WebhookEvent
    from fieldservice.webhooks.services import create_subscription

    fields.setdefault("name", f"Hook {seq()}")
    fields.setdefault("url", "http://hooks10.example.com/hook")
    fields.setdefault("events", list(WebhookEvent.values))
    return create_subscription(actor=actor or system_user(), **fields)


# --- contracts ---


def contract(customer_obj=None, machines=None, actor=None, activate=False, **fields):
    """A contract from today for a year over `machines` (default: a new machine of the
    customer), on the default SLA policy (one is made if there is none); `activate=True`
    activates it."""
    import datetime as dt

    from django.utils import timezone

    from fieldservice.contracts import services as contract_services
    from fieldservice.sla.models import BusinessCalendar, SlaPolicy

    customer_obj = customer_obj or customer()
    if machines is None:
        machines = [equipment(customer_obj)]
    if "sla_policy" not in fields:
        policy = SlaPolicy.objects.filter(is_active=True, is_default=True).first()
        if policy is None:
            number = seq()
            calendar = BusinessCalendar.objects.create(name=f"Calendar {number}")
            policy = SlaPolicy.objects.create(code=f"policy-{number}", name=f"Policy {number}", calendar=calendar)
        fields["sla_policy"] = policy
    today = timezone.localdate()
    fields.setdefault("starts_on", today)
    fields.setdefault("ends_on", today + dt.timedelta(days=364))
    made = contract_services.create_contract(
        actor=actor or system_user(), customer=customer_obj, equipment=machines, **fields
    )
    if activate:
        made = contract_services.activate_contract(made, actor=actor or system_user())
    return made


def warehouse(organisation: Organisation | None = None, actor=None, **fields):
    organisation = organisation or own_company()
    number = seq()
    fields.setdefault("code", f"WH-{number:04d}")
    fields.setdefault("name", f"Warehouse {number}")
    kind = fields.pop("kind", "provider" if organisation.kind == OrganisationKind.PROVIDER else "central")
    return inventory_services.create_warehouse(
        actor=actor or system_user(), organisation=organisation, kind=kind, **fields
    )


def stock(warehouse_obj, part_obj, quantity, actor=None, **fields):
    """Receive `quantity` of `part_obj` into `warehouse_obj` through the ledger."""
    return inventory_services.receive_stock(
        warehouse_obj, actor=actor or system_user(), part=part_obj, quantity=quantity, **fields
    )


def fill_van(engineer_user, part_obj, quantity, *, lot: str = "", serials=(), source=None, actor=None):
    """Put `quantity` of `part_obj` into the engineer's van: received into a warehouse of his
    organisation (`source`, made if not given), then issued to him through the ledger (ISSUE)."""
    from fieldservice.inventory.choices import MoveReason
    from fieldservice.inventory.models import SerialUnit
    from fieldservice.inventory.services import Document, Line, post

    actor = actor or system_user()
    source = source or warehouse(engineer_user.organisation)
    van = inventory_services.van_for(engineer_user)
    amount = Decimal(str(quantity))
    stock(source, part_obj, amount, lot=lot, serials=serials, actor=actor)
    if serials:
        names = serials.replace(",", " ").split() if isinstance(serials, str) else list(serials)
        lines = []
        for unit in SerialUnit.objects.filter(part=part_obj, serial__in=names):
            lines.append(Line(source, part_obj, MoveReason.ISSUE, quantity=Decimal(-1), lot=unit.lot, unit=unit))
            lines.append(Line(van, part_obj, MoveReason.ISSUE, quantity=Decimal(1), lot=unit.lot, unit=unit))
    else:
        lines = [
            Line(source, part_obj, MoveReason.ISSUE, quantity=-amount, lot=lot),
            Line(van, part_obj, MoveReason.ISSUE, quantity=amount, lot=lot),
        ]
    post(lines, actor=actor, document=Document(kind="test_fill", reference="fill_van"))
    return van
