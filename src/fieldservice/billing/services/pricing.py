"""Pricing a visit: the fee lines a completed order is worth, from the price list and the visit.

`price_order(order, actor=...)` and the completion hook `price_completed` (re)build an order's
lines of source "auto": labour (hours by service type and the lead engineer's level), the call-out
fee, travel (from the engineer's home base, or a zone's fixed fee) and the parts used (at the unit
cost the stock ledger booked). Re-pricing rewrites only those lines, and not one the back office
corrected or removed, so it can run any number of times; what an approved quotation prices is not
priced again. The lines are checked as `fees` checks every line (`fees._check`), and written with
their events and margins in the same transaction.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import EngineerLevel, OrganisationKind
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.billing.choices import FeeKind, FeeSource
from fieldservice.billing.models import FeeLine
from fieldservice.billing.permissions import may_manage_billing
from fieldservice.billing.services import margins
from fieldservice.billing.services.fees import (
    CALL_OUT,
    FeeSpec,
    _check,
    _frozen_ids,
    _lock,
    _refuse_frozen,
)
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceList, PriceListItem
from fieldservice.contracts.services import most_specific
from fieldservice.core.errors import require
from fieldservice.core.events import record_event
from fieldservice.core.geo import great_circle_km
from fieldservice.core.models import Event
from fieldservice.core.money import DEFAULT_CURRENCY, cents
from fieldservice.dispatch.choices import AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field.models import PartUsage
from fieldservice.inventory.choices import MoveReason
from fieldservice.inventory.models import StockMove
from fieldservice.planning.inputs import site_in_area
from fieldservice.planning.optimiser.model import GeoPoint
from fieldservice.planning.optimiser.travel import TravelError, default_source
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.hooks import Move
from fieldservice.workorders.models import WorkOrder

logger = logging.getLogger(__name__)
ZERO = Decimal("0")
QUARTER_HOURS = Decimal("4")
KM = Decimal("0.1")


def labour_hours_of(order: WorkOrder) -> Decimal | None:
    """The hours recorded on the visit, else the time on site rounded up to the quarter hour."""
    if order.labour_hours:
        return Decimal(order.labour_hours)
    if order.checked_in_at and order.checked_out_at and order.checked_out_at > order.checked_in_at:
        hours = Decimal((order.checked_out_at - order.checked_in_at).total_seconds()) / Decimal(3600)
        return (hours * QUARTER_HOURS).to_integral_value(rounding=ROUND_CEILING) / QUARTER_HOURS
    return None


def labour_cost_per_hour(level: str) -> Decimal:
    costs = getattr(settings, "FSM_LABOUR_COST_PER_HOUR", {}) or {}
    return Decimal(str(costs.get(level, costs.get(EngineerLevel.REGULAR, ZERO))))


def travel_cost_per_km() -> Decimal:
    return Decimal(str(getattr(settings, "FSM_TRAVEL_COST_PER_KM", ZERO)))


def _point(latitude, longitude) -> GeoPoint | None:
    if latitude is None or longitude is None:
        return None
    try:
        return GeoPoint(latitude, longitude)
    except ValueError:
        return None


def travel_distances(trips: dict[int, tuple]) -> dict[int, Decimal]:
    """Road kilometres of each trip (key: (home latitude, home longitude, site)) from the
    engineer's home base to the site, in one ask of the planning optimiser's travel model (OSRM
    when configured, else its great-circle estimate × road factor); the straight line when the
    model has no answer. Trips without coordinates are left out."""
    ends: dict[int, tuple[GeoPoint, GeoPoint]] = {}
    for key, (latitude, longitude, site) in trips.items():
        home = _point(latitude, longitude)
        there = _point(site.latitude, site.longitude) if site is not None else None
        if home is not None and there is not None:
            ends[key] = (home, there)
    if not ends:
        return {}
    points = list(dict.fromkeys(point for pair in ends.values() for point in pair))
    index = {point: i for i, point in enumerate(points)}
    try:
        distances = default_source().matrix(points).distances
    except (TravelError, ValueError):
        distances = None
    result = {}
    for key, (home, there) in ends.items():
        metres = int(distances[index[home]][index[there]]) if distances is not None else 0
        if 0 < metres < 10**9:
            km = metres / 1000
        else:
            km = great_circle_km(home.latitude, home.longitude, there.latitude, there.longitude)
        if math.isfinite(km):
            result[key] = Decimal(str(km)).quantize(KM, rounding=ROUND_HALF_UP)
    return result


class PriceBook:
    """The price lists an order batch needs, read once: the default list and the contracts' own."""

    def __init__(self, orders: Iterable[WorkOrder]):
        self.default = PriceList.objects.filter(is_default=True, is_active=True).first()
        list_ids = {self.default.pk} if self.default else set()
        for order in orders:
            contract = order.contract if order.contract_id else None
            if contract is not None and contract.price_list_id:
                list_ids.add(contract.price_list_id)
        self.lists = {pl.pk: pl for pl in PriceList.objects.filter(pk__in=list_ids, is_active=True)}
        self.items: dict[int, list[PriceListItem]] = defaultdict(list)
        for item in PriceListItem.objects.filter(price_list_id__in=self.lists).select_related("area"):
            self.items[item.price_list_id].append(item)

    def lists_of(self, order: WorkOrder) -> list[PriceList]:
        contract = order.contract if order.contract_id else None
        own = self.lists.get(contract.price_list_id) if contract is not None and contract.price_list_id else None
        return [pl for pl in dict.fromkeys([own, self.default]) if pl is not None and pl.pk in self.lists]

    def currency(self, order: WorkOrder) -> str:
        lists = self.lists_of(order)
        return lists[0].currency if lists else DEFAULT_CURRENCY

    def price(self, order, kind, *, service_type="", level="", part_id=None) -> Decimal | None:
        """As contracts.services.price_of: the order's list, then the default list."""
        for price_list in self.lists_of(order):
            items = [i for i in self.items[price_list.pk] if i.kind == kind]
            if kind == PriceItemKind.PART:
                items = [i for i in items if i.part_id == part_id]
            best = most_specific(items, service_type or "", level or "")
            if best is not None:
                return best.unit_price
        return None

    def zone_fee(self, order) -> PriceListItem | None:
        for price_list in self.lists_of(order):
            for item in self.items[price_list.pk]:
                if (
                    item.kind == PriceItemKind.TRAVEL_ZONE
                    and item.area is not None
                    and site_in_area(order.site, item.area)
                ):
                    return item
        return None


def _slot(line: FeeLine) -> tuple:
    if line.kind == FeeKind.PART:
        return (FeeKind.PART, line.part_usage_id)
    if line.kind == FeeKind.SERVICE:
        return (CALL_OUT,)
    return (line.kind,)


def _quoted(order_ids: list[int]) -> dict[int, dict]:
    """What the orders' approved quotations already price: their kinds and their parts."""
    quoted: dict[int, dict] = {}
    for order_id, kind, part_id in FeeLine.objects.filter(
        work_order_id__in=order_ids, source=FeeSource.QUOTATION, is_void=False
    ).values_list("work_order_id", "kind", "part_id"):
        entry = quoted.setdefault(order_id, {"kinds": set(), "parts": set()})
        entry["kinds"].add(kind)
        if part_id is not None:
            entry["parts"].add(part_id)
    return quoted


def _wanted(
    order: WorkOrder,
    book: PriceBook,
    lead: dict | None,
    usages,
    part_costs,
    km: Decimal | None,
    quoted: dict | None = None,
) -> dict[tuple, FeeSpec]:
    """The lines the visit prices to, by slot. An approved quotation is the price the customer
    agreed: what it prices (labour, travel, the parts it names) is not priced again, and no
    call-out fee is added to it; a part used beyond it, or a kind it left out, still is."""
    level = (lead or {}).get("level") or EngineerLevel.REGULAR
    partner = bool((lead or {}).get("partner"))
    wanted: dict[tuple, FeeSpec] = {}
    kinds = quoted["kinds"] if quoted else set()
    hours = labour_hours_of(order) if FeeKind.LABOUR not in kinds else None
    if hours:
        rate = book.price(order, PriceItemKind.LABOUR_HOUR, service_type=order.service_type, level=level)
        wanted[(FeeKind.LABOUR,)] = FeeSpec(
            kind=FeeKind.LABOUR,
            description=_("Labour, %(level)s") % {"level": EngineerLevel(level).label},
            quantity=hours,
            unit=_("h"),
            unit_price=rate or ZERO,
            unit_cost=ZERO if partner else labour_cost_per_hour(level),
        )
    call_out = (
        None if quoted else book.price(order, PriceItemKind.CALL_OUT, service_type=order.service_type, level=level)
    )
    if call_out is not None:
        wanted[(CALL_OUT,)] = FeeSpec(kind=FeeKind.SERVICE, description=_("Call-out fee"), unit_price=call_out)
    zone = book.zone_fee(order)
    per_km_cost = ZERO if partner else travel_cost_per_km()
    if FeeKind.TRAVEL in kinds:
        pass
    elif zone is not None:
        wanted[(FeeKind.TRAVEL,)] = FeeSpec(
            kind=FeeKind.TRAVEL,
            description=_("Travel, fixed fee for %(zone)s") % {"zone": zone.area.name},
            unit_price=zone.unit_price,
            unit_cost=cents(km * per_km_cost) if km else ZERO,
        )
    elif km:
        rate = book.price(order, PriceItemKind.TRAVEL_KM, service_type=order.service_type, level=level)
        wanted[(FeeKind.TRAVEL,)] = FeeSpec(
            kind=FeeKind.TRAVEL,
            description=_("Travel from the engineer's base, %(km)s km") % {"km": km},
            quantity=km,
            unit=_("km"),
            unit_price=rate or ZERO,
            unit_cost=per_km_cost,
        )
    for usage in usages:
        if quoted and usage.part_id in quoted["parts"]:
            continue
        wanted[(FeeKind.PART, usage.pk)] = FeeSpec(
            kind=FeeKind.PART,
            description=str(usage.part)[:200],
            quantity=usage.quantity,
            unit=usage.part.unit,
            unit_price=book.price(order, PriceItemKind.PART, part_id=usage.part_id) or ZERO,
            unit_cost=part_costs.get(usage.part_id, usage.part.average_cost),
            part=usage.part,
            part_usage=usage,
        )
    return wanted


def _leads(order_ids: list[int]) -> dict[int, dict]:
    leads: dict[int, dict] = {}
    rows = (
        Assignment.objects.filter(
            work_order_id__in=order_ids,
            role=AssignmentRole.LEAD,
            status=AssignmentStatus.ACCEPTED,
            engineer__isnull=False,
        )
        .order_by("work_order_id", "-pk")
        .values("work_order_id", "engineer_id", "provider_id", "engineer__organisation__kind")
    )
    for row in rows:
        # A partner provider's engineer is not on our payroll: his hours and his driving cost us
        # what the provider's statement pays, not our own rates.
        partner = row["provider_id"] is not None or row["engineer__organisation__kind"] == OrganisationKind.PROVIDER
        leads.setdefault(row["work_order_id"], {"engineer_id": row["engineer_id"], "partner": partner})
    profiles = {
        p["user_id"]: p
        for p in EngineerProfile.objects.filter(user_id__in=[lead["engineer_id"] for lead in leads.values()]).values(
            "user_id", "level", "home_latitude", "home_longitude"
        )
    }
    for lead in leads.values():
        profile = profiles.get(lead["engineer_id"]) or {}
        lead["level"] = profile.get("level") or EngineerLevel.REGULAR
        lead["home"] = (profile.get("home_latitude"), profile.get("home_longitude"))
    return leads


def _part_costs(order_ids: list[int]) -> dict[int, dict[int, Decimal]]:
    """The unit cost the ledger booked for the parts each order consumed (weighted by quantity)."""
    costs: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = defaultdict(lambda: [ZERO, ZERO])
    for move in StockMove.objects.filter(work_order_id__in=order_ids, reason=MoveReason.CONSUMPTION).values(
        "work_order_id", "part_id", "quantity", "unit_cost"
    ):
        quantity = abs(move["quantity"])
        row = rows[(move["work_order_id"], move["part_id"])]
        row[0] += quantity
        row[1] += quantity * move["unit_cost"]
    for (order_id, part_id), (quantity, value) in rows.items():
        if quantity:
            costs[order_id][part_id] = (value / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return costs


def _corrected(line_ids: list[int]) -> set[int]:
    if not line_ids:
        return set()
    content_type = ContentType.objects.get_for_model(FeeLine)
    return {
        int(pk)
        for pk in Event.objects.filter(
            content_type=content_type, object_pk__in=[str(pk) for pk in line_ids], action="fee_corrected"
        ).values_list("object_pk", flat=True)
    }


VALUE_FIELDS = ("description", "quantity", "unit", "unit_price", "discount", "amount", "unit_cost", "cost")
VALUE_FIELDS += ("currency", "payer", "payer_reason", "part")


def _price(orders: list[WorkOrder], actor: User | None) -> dict[int, dict]:
    """(Re)build the priced lines of `orders` (locked, not frozen). Returns the changes per order."""
    ids = [order.pk for order in orders]
    book = PriceBook(orders)
    leads = _leads(ids)
    costs = _part_costs(ids)
    km = travel_distances({order.pk: (*leads[order.pk]["home"], order.site) for order in orders if order.pk in leads})
    quoted = _quoted(ids)
    usages: dict[int, list[PartUsage]] = defaultdict(list)
    for usage in PartUsage.objects.filter(work_order_id__in=ids).select_related("part").order_by("recorded_at", "pk"):
        usages[usage.work_order_id].append(usage)
    existing: dict[int, dict[tuple, FeeLine]] = defaultdict(dict)
    orphans: dict[int, list[FeeLine]] = defaultdict(list)
    auto = list(FeeLine.objects.filter(work_order_id__in=ids, source=FeeSource.AUTO).order_by("pk"))
    kept = _corrected([line.pk for line in auto])
    for line in auto:
        slot = _slot(line)
        if slot in existing[line.work_order_id] or (line.kind == FeeKind.PART and line.part_usage_id is None):
            orphans[line.work_order_id].append(line)
        else:
            existing[line.work_order_id][slot] = line
    creates, updates, changes = [], [], defaultdict(dict)
    for order in orders:
        currency = book.currency(order)
        wanted = _wanted(
            order, book, leads.get(order.pk), usages[order.pk], costs[order.pk], km.get(order.pk), quoted.get(order.pk)
        )
        have = existing[order.pk]
        for slot, spec in wanted.items():
            try:
                item = _check(order, spec, known_cost=True)
            except ValidationError as error:
                # A visit recorded beyond reason (hours, a price) must not stop its completion:
                # the line is left for the back office to add by hand.
                logger.warning("work order %s: %s not priced: %s", order.number, spec.description, error)
                continue
            line = have.get(slot)
            values = {
                "description": item.description,
                "quantity": item.quantity,
                "unit": item.unit,
                "unit_price": item.unit_price,
                "discount": item.discount,
                "amount": item.amount,
                "unit_cost": item.unit_cost,
                "cost": item.cost,
                "currency": currency,
                "payer": item.payer,
                "payer_reason": item.payer_reason,
                "part": item.part,
            }
            if line is None:
                creates.append(
                    FeeLine(
                        work_order=order,
                        kind=spec.kind,
                        source=FeeSource.AUTO,
                        part_usage=spec.part_usage,
                        created_by=actor if getattr(actor, "pk", None) else None,
                        **values,
                    )
                )
                changes[order.pk][item.description] = [None, str(item.amount)]
            elif line.pk in kept or line.is_void:
                continue  # the back office's word stands
            elif any(getattr(line, name) != value for name, value in values.items()):
                changes[order.pk][item.description] = [str(line.amount), str(item.amount)]
                for name, value in values.items():
                    setattr(line, name, value)
                updates.append(line)
        gone = [line for slot, line in have.items() if slot not in wanted] + orphans[order.pk]
        for line in gone:
            if line.is_void or line.pk in kept:
                continue
            line.is_void = True
            line.void_reason = _("No longer part of the visit")
            updates.append(line)
            changes[order.pk][line.description] = [str(line.amount), None]
    if creates:
        FeeLine.objects.bulk_create(creates)
    if updates:
        FeeLine.objects.bulk_update(updates, [*VALUE_FIELDS, "is_void", "void_reason"])
    return changes


def _record_priced(orders: list[WorkOrder], changes: dict[int, dict], actor) -> None:
    for order in orders:
        if changes.get(order.pk):
            record_event(order, actor=actor, action="order_priced", changes=changes[order.pk], related=order)


@transaction.atomic
def price_order(order: WorkOrder, *, actor: User) -> list[FeeLine]:
    """(Re)build the order's lines priced from the visit; a line the back office corrected or
    removed is left as it is. Running it twice changes nothing. Returns the order's live lines."""
    require(may_manage_billing(actor))
    current = _lock(order)
    _refuse_frozen(current)
    changes = _price([current], actor)
    _record_priced([current], changes, actor)
    margins.refresh([current.pk])
    return list(FeeLine.objects.filter(work_order=current, is_void=False).select_related("part"))


def price_completed(moves: list[Move]) -> None:
    """workorders' on_moved hook: price every order a call completed, in the lifecycle's
    transaction, with one read per kind of row for the whole batch."""
    done = {move.order_id: move.actor for move in moves if move.target == WorkOrderStatus.COMPLETED}
    if not done:
        return
    frozen = _frozen_ids(done)
    orders = list(
        WorkOrder.objects.select_related("equipment", "contract__price_list", "site").filter(
            pk__in=[pk for pk in done if pk not in frozen]
        )
    )
    if not orders:
        return
    by_actor: dict = defaultdict(list)
    for order in orders:
        by_actor[done[order.pk]].append(order)
    for actor, group in by_actor.items():
        changes = _price(group, actor)
        _record_priced(group, changes, actor)
    margins.refresh([order.pk for order in orders])
