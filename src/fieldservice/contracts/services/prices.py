"""Price lists: labour, call-out and part prices; a contract may point to its own list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import EngineerLevel
from fieldservice.accounts.models import ServiceArea, User
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceList, PriceListItem
from fieldservice.contracts.services.fields import parse_currency, parse_money, require_manage
from fieldservice.core.choices import ServiceType
from fieldservice.core.errors import field_error
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.inventory.models import Part

PRICE_LIST_FIELDS = ["name", "currency", "is_default", "is_active"]


def _check_price_list_fields(fields: dict, *, price_list: PriceList | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            text = (value or "").strip()
            if not text:
                raise field_error("name", _("This field is required."), "required")
            if len(text) > 100:
                raise field_error("name", _("At most %(n)d characters.") % {"n": 100}, "max_length")
            clash = PriceList.objects.filter(name__iexact=text)
            if price_list is not None:
                clash = clash.exclude(pk=price_list.pk)
            if clash.exists():
                raise field_error("name", _("A price list with this name exists."), "duplicate")
            cleaned[name] = text
        elif name == "currency":
            cleaned[name] = parse_currency(value)
        elif name in {"is_default", "is_active"}:
            cleaned[name] = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    is_default = cleaned.get("is_default", price_list.is_default if price_list else False)
    if is_default and not cleaned.get("is_active", price_list.is_active if price_list else True):
        raise field_error("is_active", _("The default price list must be active."), "default_inactive")
    return cleaned


def _take_default(keep: PriceList | None = None) -> None:
    others = PriceList.objects.select_for_update().filter(is_default=True)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    others.update(is_default=False)


@transaction.atomic
def create_price_list(*, actor: User, name: str, **fields) -> PriceList:
    require_manage(actor)
    cleaned = _check_price_list_fields({"name": name} | fields)
    if cleaned.get("is_default"):
        _take_default()
    try:
        with transaction.atomic():
            price_list = PriceList.objects.create(**cleaned)
    except IntegrityError:
        raise field_error("name", _("A price list with this name exists."), "duplicate") from None
    record_created(price_list, actor=actor, fields=PRICE_LIST_FIELDS)
    return price_list


@transaction.atomic
def update_price_list(price_list: PriceList, *, actor: User, **fields) -> PriceList:
    require_manage(actor)
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    cleaned = _check_price_list_fields(fields, price_list=price_list)
    if cleaned.get("is_default") is False and price_list.is_default:
        raise field_error("is_default", _("Make another price list the default instead."), "default_required")
    before = snapshot(price_list, PRICE_LIST_FIELDS)
    if cleaned.get("is_default"):
        _take_default(price_list)
    for name, value in cleaned.items():
        setattr(price_list, name, value)
    try:
        with transaction.atomic():
            price_list.save()
    except IntegrityError:
        raise field_error("name", _("A price list with this name exists."), "duplicate") from None
    record_updated(price_list, actor=actor, before=before)
    return price_list


# Kinds that may be narrowed by service type and engineer level (a part or a zone fee is one price).
GRADED_KINDS = frozenset(
    {PriceItemKind.LABOUR_HOUR, PriceItemKind.CALL_OUT, PriceItemKind.TRAVEL_KM, PriceItemKind.SERVICE}
)


@dataclass(frozen=True)
class _Price:
    kind: str
    part: Part | None
    area: ServiceArea | None
    name: str
    service_type: str
    engineer_level: str
    unit_price: Decimal

    def lookup(self) -> dict:
        if self.part is not None:
            return {"part": self.part}
        if self.area is not None:
            return {"area": self.area}
        return {
            "kind": self.kind,
            "part__isnull": True,
            "area__isnull": True,
            "service_type": self.service_type,
            "engineer_level": self.engineer_level,
            "name": self.name,
        }


def _label(item: PriceListItem) -> str:
    parts = [str(item.part or item.area or item.name or item.get_kind_display())]
    if item.service_type:
        parts.append(item.get_service_type_display())
    if item.engineer_level:
        parts.append(item.get_engineer_level_display())
    return " · ".join(str(p) for p in parts)


def _check_price(kind: str, part, unit_price, *, service_type="", engineer_level="", area=None, name="") -> _Price:
    if kind not in PriceItemKind.values:
        raise field_error("kind", _("Unknown kind of price."), "invalid_choice")
    if kind == PriceItemKind.PART:
        if not isinstance(part, Part):
            raise field_error("part", _("Choose the part."), "required")
    elif part is not None:
        raise field_error("part", _("Only a part price names a part."), "invalid")
    if kind == PriceItemKind.TRAVEL_ZONE:
        if not isinstance(area, ServiceArea):
            raise field_error("area", _("Choose the zone this fixed travel fee is for."), "required")
    elif area is not None:
        raise field_error("area", _("Only a zone's travel fee names a zone."), "invalid")
    name = (name or "").strip() if isinstance(name, str) else name
    if not isinstance(name, str):
        raise field_error("name", _("Enter the name of the service item."), "invalid")
    if kind == PriceItemKind.SERVICE:
        if not name:
            raise field_error("name", _("Enter the name of the service item."), "required")
        if len(name) > 100:
            raise field_error("name", _("At most %(n)d characters.") % {"n": 100}, "max_length")
    elif name:
        raise field_error("name", _("Only a service item has a name."), "invalid")
    service_type = service_type or ""
    engineer_level = engineer_level or ""
    if service_type and service_type not in ServiceType.values:
        raise field_error("service_type", _("Unknown service type."), "invalid_choice")
    if engineer_level and engineer_level not in EngineerLevel.values:
        raise field_error("engineer_level", _("Unknown engineer level."), "invalid_choice")
    if kind not in GRADED_KINDS:
        if service_type:
            raise field_error("service_type", _("This kind of price is the same for every service type."), "invalid")
        if engineer_level:
            raise field_error(
                "engineer_level", _("This kind of price is the same for every engineer level."), "invalid"
            )
    amount = parse_money(unit_price, "unit_price")
    if amount is None:
        raise field_error("unit_price", _("This field is required."), "required")
    return _Price(kind, part, area, name, service_type, engineer_level, amount)


@transaction.atomic
def set_price(
    price_list: PriceList,
    *,
    actor: User,
    kind: str,
    unit_price,
    part=None,
    service_type: str = "",
    engineer_level: str = "",
    area=None,
    name: str = "",
) -> PriceListItem:
    """Set one price on a list: labour per hour or the call-out (by service type and engineer
    level, each may be "any"), travel per kilometre, a zone's fixed travel fee, a named service
    item, or a part. One price per combination: setting it again changes it."""
    require_manage(actor)
    price = _check_price(
        kind, part, unit_price, service_type=service_type, engineer_level=engineer_level, area=area, name=name
    )
    PriceList.objects.select_for_update().filter(pk=price_list.pk).values_list("pk", flat=True).first()
    item = price_list.items.filter(**price.lookup()).first()
    if item is not None and item.kind != price.kind:
        # A part or zone already priced under another kind cannot be, by the model's constraints.
        raise field_error("kind", _("This part or zone already has a price of another kind."), "invalid")
    if item is None:
        item = PriceListItem.objects.create(
            price_list=price_list,
            kind=price.kind,
            part=price.part,
            area=price.area,
            name=price.name,
            service_type=price.service_type,
            engineer_level=price.engineer_level,
            unit_price=price.unit_price,
        )
        record_event(price_list, actor=actor, action="price_set", changes={_label(item): [None, str(price.unit_price)]})
    elif item.unit_price != price.unit_price:
        old = item.unit_price
        item.unit_price = price.unit_price
        item.save(update_fields=["unit_price"])
        record_event(
            price_list, actor=actor, action="price_set", changes={_label(item): [str(old), str(item.unit_price)]}
        )
    return item


@transaction.atomic
def remove_price(item: PriceListItem, *, actor: User) -> None:
    require_manage(actor)
    record_event(
        item.price_list, actor=actor, action="price_removed", changes={_label(item): [str(item.unit_price), None]}
    )
    item.delete()


def default_price_list() -> PriceList | None:
    return PriceList.objects.filter(is_default=True, is_active=True).first()


def most_specific(items, service_type: str, engineer_level: str) -> PriceListItem | None:
    """Of the prices of one kind (and part, zone or name), the one for this service type and
    engineer level: level and type > level > type > any."""

    def rank(item: PriceListItem) -> int:
        return (2 if item.engineer_level else 0) + (1 if item.service_type else 0)

    fitting = [
        item
        for item in items
        if item.service_type in ("", service_type) and item.engineer_level in ("", engineer_level)
    ]
    return max(fitting, key=rank, default=None)


def price_of(
    price_list: PriceList | None,
    kind: str,
    *,
    part=None,
    service_type: str = "",
    engineer_level: str = "",
    area=None,
    name: str = "",
) -> PriceListItem | None:
    """The most specific price of `kind` (level and type > level > type > any), or None.

    Looked up on `price_list` (a contract's own list), and on the default list when that list has
    no such price (a contract's list need not repeat every part); `price_list=None` asks the
    default list alone."""
    lists = [pl for pl in (price_list, default_price_list()) if pl is not None and pl.is_active]
    seen = set()
    for candidate in lists:
        if candidate.pk in seen:
            continue
        seen.add(candidate.pk)
        items = candidate.items.filter(kind=kind)
        if kind == PriceItemKind.PART:
            items = items.filter(part=part)
        elif kind == PriceItemKind.TRAVEL_ZONE:
            items = items.filter(area=area)
        elif kind == PriceItemKind.SERVICE:
            items = items.filter(name=name)
        best = most_specific(list(items), service_type or "", engineer_level or "")
        if best is not None:
            return best
    return None


def price_for(price_list: PriceList | None, *, kind: str, part=None) -> Decimal | None:
    """The price on `price_list` (else the default list) for labour, the call-out or a part."""
    item = price_of(price_list, kind, part=part)
    return item.unit_price if item is not None else None
