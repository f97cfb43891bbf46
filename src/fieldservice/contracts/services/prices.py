"""Price lists: labour, call-out and part prices; a contract may point to its own list."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceList, PriceListItem
from fieldservice.contracts.services.fields import parse_currency, parse_money, require_manage
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


def _check_price(price_list: PriceList, kind: str, part, unit_price) -> tuple[str, object, Decimal]:
    if kind not in PriceItemKind.values:
        raise field_error("kind", _("Unknown kind of price."), "invalid_choice")
    if kind == PriceItemKind.PART:
        if not isinstance(part, Part):
            raise field_error("part", _("Choose the part."), "required")
    elif part is not None:
        raise field_error("part", _("Only a part price names a part."), "invalid")
    amount = parse_money(unit_price, "unit_price")
    if amount is None:
        raise field_error("unit_price", _("This field is required."), "required")
    return kind, part, amount


@transaction.atomic
def set_price(price_list: PriceList, *, actor: User, kind: str, unit_price, part=None) -> PriceListItem:
    """Set the price of labour, the call-out or a part on a list (one price each)."""
    require_manage(actor)
    kind, part, amount = _check_price(price_list, kind, part, unit_price)
    PriceList.objects.select_for_update().filter(pk=price_list.pk).values_list("pk", flat=True).first()
    lookup = {"part": part} if part is not None else {"kind": kind, "part__isnull": True}
    item = price_list.items.filter(**lookup).first()
    if item is None:
        item = PriceListItem.objects.create(price_list=price_list, kind=kind, part=part, unit_price=amount)
        record_event(
            price_list,
            actor=actor,
            action="price_set",
            changes={str(item.part or item.get_kind_display()): [None, str(amount)]},
        )
    elif item.unit_price != amount:
        old = item.unit_price
        item.unit_price = amount
        item.save(update_fields=["unit_price"])
        record_event(
            price_list,
            actor=actor,
            action="price_set",
            changes={str(item.part or item.get_kind_display()): [str(old), str(amount)]},
        )
    return item


@transaction.atomic
def remove_price(item: PriceListItem, *, actor: User) -> None:
    require_manage(actor)
    record_event(
        item.price_list,
        actor=actor,
        action="price_removed",
        changes={str(item.part or item.get_kind_display()): [str(item.unit_price), None]},
    )
    item.delete()


def price_for(price_list: PriceList | None, *, kind: str, part=None) -> Decimal | None:
    """The price on `price_list` (else the default list) for labour, the call-out or a part."""
    price_list = price_list or PriceList.objects.filter(is_default=True, is_active=True).first()
    if price_list is None:
        return None
    lookup = {"part": part} if kind == PriceItemKind.PART else {"kind": kind, "part__isnull": True}
    return price_list.items.filter(**lookup).values_list("unit_price", flat=True).first()
