"""Warehouses, their bins and keepers, and the engineer's van made with his profile."""

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceArea, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_coordinates, check_length
from fieldservice.inventory.choices import WarehouseKind
from fieldservice.inventory.models import Bin, Warehouse
from fieldservice.inventory.permissions import may_operate, sees_all_stock

WAREHOUSE_FIELDS = ["code", "name", "kind", "area", "address", "latitude", "longitude", "is_active"]
# Kinds a person creates; vans come with engineers and transit with the first shipment.
CREATED_KINDS = {WarehouseKind.CENTRAL, WarehouseKind.REGIONAL, WarehouseKind.PROVIDER}


def _may_create_in(actor: User, organisation: Organisation) -> bool:
    if sees_all_stock(actor):
        return True
    return can(actor, Capability.MANAGE_STOCK) and actor.organisation_id == organisation.pk


def _check(fields: dict, warehouse: Warehouse | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "code":
            value = check_length((value or "").upper(), model=Warehouse, field="code")
            if not value:
                raise field_error("code", _("This field is required."), "required")
            clash = Warehouse.objects.filter(code=value)
            if warehouse is not None:
                clash = clash.exclude(pk=warehouse.pk)
            if clash.exists():
                raise field_error("code", _("Warehouse code %(value)s exists.") % {"value": value}, "duplicate")
        elif name == "name":
            value = check_length(value, model=Warehouse, field="name")
            if not value:
                raise field_error("name", _("This field is required."), "required")
        elif name == "address":
            value = check_length(value, model=Warehouse, field="address")
        elif name == "area":
            if value is not None and not isinstance(value, ServiceArea):
                value = ServiceArea.objects.filter(pk=value).first()
                if value is None:
                    raise field_error("area", _("Unknown service area."), "invalid_choice")
        elif name == "is_active":
            value = bool(value)
        elif name in ("latitude", "longitude"):
            continue
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    if "latitude" in fields or "longitude" in fields:
        cleaned["latitude"], cleaned["longitude"] = check_coordinates(fields.get("latitude"), fields.get("longitude"))
    return cleaned


@transaction.atomic
def create_warehouse(
    *, actor: User, organisation: Organisation, kind: str, code: str, name: str, **fields
) -> Warehouse:
    require(_may_create_in(actor, organisation))
    if kind not in CREATED_KINDS:
        raise field_error("kind", _("Choose central, regional or provider warehouse."), "invalid_choice")
    is_provider = organisation.kind == OrganisationKind.PROVIDER
    if is_provider != (kind == WarehouseKind.PROVIDER):
        message = (
            _("A service provider's warehouse is a provider warehouse.")
            if is_provider
            else _("Only a service provider has provider warehouses.")
        )
        raise field_error("kind", message, "invalid_choice")
    if organisation.kind == OrganisationKind.CUSTOMER:
        raise field_error("organisation", _("Customers keep no stock here."), "invalid_choice")
    cleaned = _check({"code": code, "name": name, **fields})
    warehouse = Warehouse.objects.create(organisation=organisation, kind=kind, **cleaned)
    record_created(warehouse, actor=actor, fields=WAREHOUSE_FIELDS)
    return warehouse


@transaction.atomic
def update_warehouse(warehouse: Warehouse, *, actor: User, **fields) -> Warehouse:
    require(may_operate(actor, warehouse))
    if "kind" in fields or "organisation" in fields:
        raise field_error("kind", _("A warehouse's kind and organisation cannot change."), "read_only")
    cleaned = _check(fields, warehouse)
    if warehouse.is_van and "code" in cleaned:
        raise field_error("code", _("An engineer's stock keeps its code."), "read_only")
    before = snapshot(warehouse, WAREHOUSE_FIELDS)
    for name, value in cleaned.items():
        setattr(warehouse, name, value)
    if not warehouse.is_active and warehouse.balances.filter(on_hand__gt=0).exists():
        raise field_error("is_active", _("The warehouse still holds stock: move it out first."), "in_stock")
    warehouse.save()
    record_updated(warehouse, actor=actor, before=before)
    return warehouse


@transaction.atomic
def set_keepers(warehouse: Warehouse, *, actor: User, keepers: list[User]) -> Warehouse:
    require(may_operate(actor, warehouse))
    if warehouse.kind not in CREATED_KINDS:
        raise field_error("keepers", _("Only a warehouse has keepers; an engineer's stock is his."), "invalid")
    for keeper in keepers:
        if keeper.organisation_id != warehouse.organisation_id or not can(keeper, Capability.MANAGE_STOCK):
            raise field_error(
                "keepers",
                _("%(user)s cannot keep this warehouse: not a keeper of its organisation.") % {"user": keeper},
                "invalid_choice",
            )
    before = sorted(str(user) for user in warehouse.keepers.all())
    warehouse.keepers.set(keepers)
    after = sorted(str(user) for user in keepers)
    if before != after:
        record_event(warehouse, actor=actor, action="keepers_changed", changes={"keepers": [before, after]})
    return warehouse


@transaction.atomic
def create_bin(warehouse: Warehouse, *, actor: User, code: str, description: str = "") -> Bin:
    require(may_operate(actor, warehouse))
    code = check_length((code or "").upper(), model=Bin, field="code")
    if not code:
        raise field_error("code", _("This field is required."), "required")
    if warehouse.bins.filter(code=code).exists():
        raise field_error("code", _("Bin %(code)s exists in this warehouse.") % {"code": code}, "duplicate")
    bin = Bin.objects.create(
        warehouse=warehouse, code=code, description=check_length(description, model=Bin, field="description")
    )
    record_created(bin, actor=actor, fields=["code", "description"], related=warehouse)
    return bin


def open_van(profile: EngineerProfile) -> Warehouse:
    """The engineer's own stock, made with his profile (the accounts hook) or on first need."""
    user = profile.user
    existing = Warehouse.objects.filter(engineer=user).first()
    if existing is not None:
        return existing
    if user.organisation_id is None:
        raise field_error("organisation", _("An engineer needs an organisation before he can hold stock."), "required")
    return Warehouse.objects.create(
        code=f"VAN-{user.pk}",
        # The engineer's name alone: the kind says "engineer stock" in the reader's language.
        name=str(user)[: Warehouse._meta.get_field("name").max_length],
        kind=WarehouseKind.VAN,
        organisation_id=user.organisation_id,
        engineer=user,
    )


def van_for(engineer: User) -> Warehouse:
    profile, _created = EngineerProfile.objects.get_or_create(user=engineer)
    return open_van(profile)
