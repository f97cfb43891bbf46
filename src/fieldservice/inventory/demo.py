"""Demo stock: the warehouses, their keepers, a year of purchases, requisitions to the engineers'
vans, returns of defective parts and returns to the factory, all through the services.

`seed` builds the places and the opening stock a year back; `StockHistory` is driven by the
demo's order history, in time order: it fills a van before a part is used, and, as the simulated
weeks pass, brings the defective parts back and sends them to the factory.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import time_machine
from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.utils import timezone

from fieldservice.accounts.models import Organisation, ServiceArea, User
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import DefectStatus, Delivery, Grade, Tracking, TransferKind, WarehouseKind
from fieldservice.inventory.models import DefectivePart, Part, SerialUnit, StockBalance, StockLevel, Warehouse

# Unit price (CNY) by part-number prefix: what a keeper pays the factory.
PRICES = [
    ("HR-SCR", 3800),
    ("HR-BRL", 5200),
    ("HR-CHK", 900),
    ("HR-HTB", 120),
    ("HR-NZL", 260),
    ("HR-TC", 45),
    ("HR-HP-25", 4200),
    ("HR-HP-40", 5600),
    ("HR-HP-63", 8800),
    ("HR-SM-1", 2600),
    ("HR-SM-11", 9800),
    ("HR-SM-18", 13800),
    ("HR-SM-30", 18600),
    ("HR-SM-45", 22800),
    ("HR-SD-1", 1800),
    ("HR-SD-11", 5200),
    ("HR-SD-18", 6900),
    ("HR-SD-30", 9600),
    ("HR-SD-45", 12400),
    ("HR-PLC-CPU", 2800),
    ("HR-PLC", 900),
    ("HR-HMI", 3200),
    ("HR-SEAL", 380),
    ("HR-ORING", 90),
    ("HR-PV", 6800),
    ("HR-DV", 950),
    ("HR-FLT", 85),
    ("HR-LT", 1100),
    ("HR-PS", 680),
    ("HR-PRX", 60),
    ("HR-LUB", 1500),
    ("HR-OC", 2200),
    ("HR-BSC", 4800),
    ("HR-TBELT", 210),
    ("HR-SSR", 150),
    ("HR-VAC", 380),
    ("HR-SUC", 25),
    ("HR-CYL", 320),
    ("HR-DH", 180),
    ("HR-FAN", 650),
    ("HR-TMC", 420),
    ("HR-MESH", 35),
]
SERIAL_PARTS = {"HR-PLC-CPU", "HR-HMI-10"}
LOT_PREFIX = "HR-SEAL"
CARRIERS = ["顺丰速运", "德邦物流", "京东物流"]
FACTORY_REASONS = ["现场更换，疑似批次质量问题", "使用不足保修期损坏", "客户投诉，申请质量分析"]


def price_of(part_number: str) -> Decimal:
    best = max((prefix for prefix, _price in PRICES if part_number.startswith(prefix)), key=len, default=None)
    return Decimal(dict(PRICES)[best]) if best else Decimal(100)


def _stock_quantity(price: Decimal) -> int:
    if price >= 5000:
        return 4
    if price >= 1000:
        return 10
    if price >= 200:
        return 30
    return 80


# name, code, kind, area, address, latitude, longitude
PLACES = [
    ("宁波总仓", "NB-CENTRAL", WarehouseKind.CENTRAL, "宁波", "宁波市北仑区海瑞路 88 号", "29.900600", "121.844000"),
    (
        "杭州服务中心备件库",
        "HZ-RSC",
        WarehouseKind.REGIONAL,
        "杭州",
        "杭州市萧山区市心北路 1288 号",
        "30.184000",
        "120.264000",
    ),
    (
        "苏州服务中心备件库",
        "SZ-RSC",
        WarehouseKind.REGIONAL,
        "苏州",
        "苏州市吴中区东吴北路 99 号",
        "31.273000",
        "120.627000",
    ),
]


def seed(
    *, rng: random.Random, start: dt.datetime, admin: User, keeper: User, provider: Organisation, provider_admin: User
) -> dict:
    """Warehouses, keepers, tracking, stock levels and the opening stock, `start` being a year ago."""
    own = keeper.organisation
    areas = {area.name: area for area in ServiceArea.objects.all()}
    for part in Part.objects.filter(part_number__in=SERIAL_PARTS):
        services.update_part(part, actor=admin, tracking=Tracking.SERIAL)
    for part in Part.objects.filter(part_number__startswith=LOT_PREFIX):
        services.update_part(part, actor=admin, tracking=Tracking.LOT)
    places = {}
    with time_machine.travel(start, tick=False):
        for name, code, kind, area, address, lat, lng in PLACES:
            places[code] = services.create_warehouse(
                actor=admin,
                organisation=own,
                kind=kind,
                code=code,
                name=name,
                area=areas.get(area),
                address=address,
                latitude=lat,
                longitude=lng,
            )
            services.set_keepers(places[code], actor=admin, keepers=[keeper])
            for bin_code in ("A-01", "A-02", "B-01"):
                services.create_bin(places[code], actor=keeper, code=bin_code)
        places["RA-PRV"] = services.create_warehouse(
            actor=provider_admin,
            organisation=provider,
            kind=WarehouseKind.PROVIDER,
            code="RA-PRV",
            name="瑞安服务商备件库",
            area=areas.get("温州"),
            address="瑞安市安阳街道万松路 66 号",
            latitude="27.778100",
            longitude="120.655300",
        )
        central = places["NB-CENTRAL"]
        parts = list(Part.objects.order_by("part_number"))
        for part in parts:
            price = price_of(part.part_number)
            quantity = _stock_quantity(price)
            receive(central, part, quantity, price, keeper, rng, reference="期初库存")
        # The regional centres and the provider hold the cheap, often used parts.
        common = [part for part in parts if price_of(part.part_number) < 1000]
        for code, actor in (("HZ-RSC", keeper), ("SZ-RSC", keeper), ("RA-PRV", provider_admin)):
            for part in rng.sample(common, min(12, len(common))):
                receive(
                    places[code],
                    part,
                    _stock_quantity(price_of(part.part_number)) // 2 or 2,
                    price_of(part.part_number),
                    actor,
                    rng,
                    reference="期初库存",
                )
        levels = []
        for part in parts:
            most = _stock_quantity(price_of(part.part_number))
            levels.append({"part": part, "minimum": max(1, most // 4), "maximum": most})
        services.apply_levels(actor=keeper, warehouse=central, levels=levels)
        for code in ("HZ-RSC", "SZ-RSC"):
            held = StockBalance.objects.filter(warehouse=places[code], grade=Grade.GOOD).select_related("part")
            services.apply_levels(
                actor=keeper,
                warehouse=places[code],
                levels=[
                    {"part": row.part, "minimum": max(1, int(row.on_hand) - 2), "maximum": row.on_hand} for row in held
                ],
            )
    return places


def receive(
    warehouse: Warehouse, part: Part, quantity: int, price: Decimal, actor: User, rng: random.Random, reference: str
):
    # Purchase prices wander a little, so the moving average moves.
    cost = (price * Decimal(str(rng.uniform(0.94, 1.06)))).quantize(Decimal("0.01"))
    lot = ""
    serials = ()
    if part.tracking == Tracking.LOT:
        lot = f"L{timezone.localdate():%y%m}{rng.randint(10, 99)}"
    elif part.tracking == Tracking.SERIAL:
        base = SerialUnit.objects.filter(part=part).count()
        serials = [
            f"{part.part_number[3:].replace('-', '')}{timezone.localdate():%y}{base + index + 1:05d}"
            for index in range(quantity)
        ]
    return services.receive_stock(
        warehouse,
        actor=actor,
        part=part,
        quantity=quantity,
        unit_cost=cost,
        lot=lot,
        serials=serials,
        reference=reference,
    )


class StockHistory:
    """The stock side of the order history, told in time order by `HistoryBuilder`."""

    def __init__(self, rng: random.Random, *, keeper: User, provider_admin: User):
        self.rng = rng
        self.keeper, self.provider_admin = keeper, provider_admin
        self.central = Warehouse.objects.get(code="NB-CENTRAL")
        self.stores = {
            store.organisation_id: store for store in Warehouse.objects.filter(code__in=["NB-CENTRAL", "RA-PRV"])
        }
        # The regional centres serve the engineers of their area with the parts they hold.
        self.regional = {
            store.area_id: store for store in Warehouse.objects.filter(kind=WarehouseKind.REGIONAL, area__isnull=False)
        }
        self.count_months = 0
        self.next_week: dt.datetime | None = None
        self.next_month: dt.datetime | None = None
        self.pending_findings: list = []

    def store_for(self, engineer: User, part: Part) -> Warehouse:
        if engineer.organisation_id == self.central.organisation_id:
            areas = engineer.engineer_profile.areas.values_list("pk", flat=True)
            for area in areas:
                store = self.regional.get(area)
                if store is not None and self._free(store, part, 2):
                    return store
        return self.stores[engineer.organisation_id]

    def keeper_of(self, store: Warehouse) -> User:
        return self.provider_admin if store.organisation_id != self.central.organisation_id else self.keeper

    def ensure_in_van(self, engineer: User, part: Part, order, moment: dt.datetime) -> tuple[str, str]:
        """Fill the van before the part is used (a requisition for the order when it is not there);
        returns the (lot, serial) to use."""
        van = services.van_for(engineer)
        held = self._held(van, part)
        if held is None:
            store = self.store_for(engineer, part)
            keeper = self.keeper_of(store)
            if not self._free(store, part, 2):
                receive(
                    store,
                    part,
                    _stock_quantity(price_of(part.part_number)),
                    price_of(part.part_number),
                    keeper,
                    self.rng,
                    reference="补货",
                )
            with time_machine.travel(moment - dt.timedelta(hours=self.rng.randint(3, 20)), tick=False):
                transfer = services.request_transfer(
                    actor=engineer,
                    kind=TransferKind.REQUISITION,
                    source=store,
                    destination=van,
                    lines=[
                        {
                            "part": part,
                            "quantity": 2 if part.tracking != Tracking.SERIAL else 1,
                            **self._lot_of(store, part),
                        }
                    ],
                    urgent=self.rng.random() < 0.3,
                    work_order_id=order.pk,
                    work_order_number=order.number or "",
                    delivery=Delivery.COLLECT,
                )
            with time_machine.travel(moment - dt.timedelta(hours=2, minutes=self.rng.randint(0, 50)), tick=False):
                services.approve_transfer(transfer, actor=keeper)
                line = transfer.lines.get()
                serials = {}
                if part.tracking == Tracking.SERIAL:
                    serials = {
                        line.pk: list(
                            SerialUnit.objects.filter(part=part, warehouse=store, grade=Grade.GOOD)
                            .order_by("serial")
                            .values_list("serial", flat=True)[: int(line.approved)]
                        )
                    }
                services.ship_transfer(transfer, actor=keeper, delivery=Delivery.COLLECT, serials=serials)
            with time_machine.travel(moment - dt.timedelta(hours=1, minutes=self.rng.randint(0, 50)), tick=False):
                services.receive_transfer(transfer, actor=engineer)
            held = self._held(van, part)
        return held

    def _lot_of(self, store: Warehouse, part: Part) -> dict:
        if part.tracking != Tracking.LOT:
            return {}
        row = self._lots_free(store, part, 2).order_by("lot").first()
        return {"lot": row.lot} if row else {}

    def _lots_free(self, store: Warehouse, part: Part, quantity: int):
        return StockBalance.objects.filter(
            warehouse=store, part=part, grade=Grade.GOOD, on_hand__gte=F("reserved") + quantity
        )

    def _free(self, store: Warehouse, part: Part, quantity: int) -> bool:
        if part.tracking == Tracking.LOT:
            return self._lots_free(store, part, quantity).exists()
        row = StockBalance.objects.filter(warehouse=store, part=part, grade=Grade.GOOD).aggregate(
            on_hand=Sum("on_hand"), reserved=Sum("reserved")
        )
        return (row["on_hand"] or 0) - (row["reserved"] or 0) >= quantity

    def _held(self, van: Warehouse, part: Part) -> tuple[str, str] | None:
        if part.tracking == Tracking.SERIAL:
            unit = SerialUnit.objects.filter(part=part, warehouse=van, grade=Grade.GOOD).order_by("serial").first()
            return ("", unit.serial) if unit else None
        row = (
            StockBalance.objects.filter(warehouse=van, part=part, grade=Grade.GOOD, on_hand__gte=F("reserved") + 1)
            .order_by("lot")
            .first()
        )
        return (row.lot, "") if row else None

    def tick(self, moment: dt.datetime) -> None:
        """Weekly, engineers bring back what they owe; monthly, the keeper sends it to the factory
        and restocks; the factory answers a few weeks later."""
        if self.next_week is None:
            self.next_week, self.next_month = moment + dt.timedelta(days=7), moment + dt.timedelta(days=30)
        while moment >= self.next_week:
            self.weekly_returns(self.next_week)
            self.next_week += dt.timedelta(days=7)
        while moment >= self.next_month:
            self.monthly(self.next_month)
            self.next_month += dt.timedelta(days=30)

    def weekly_returns(self, moment: dt.datetime) -> None:
        owed = DefectivePart.objects.filter(status=DefectStatus.OWED, removed_at__lt=moment - dt.timedelta(days=2))
        by_engineer: dict[int, list[DefectivePart]] = {}
        for defect in owed.select_related("engineer", "warehouse"):
            if self.rng.random() < 0.85:  # some engineers are late: the owed list has ages to show
                by_engineer.setdefault(defect.engineer_id, []).append(defect)
        for defects in by_engineer.values():
            engineer = defects[0].engineer
            store = self.stores[engineer.organisation_id]  # defective parts go back to the main store
            with time_machine.travel(moment + dt.timedelta(hours=self.rng.randint(8, 12)), tick=False):
                transfer = services.request_transfer(
                    actor=engineer,
                    kind=TransferKind.RETURN,
                    source=defects[0].warehouse,
                    destination=store,
                    defects=defects,
                    delivery=Delivery.COLLECT,
                )
                services.ship_transfer(transfer, actor=engineer)
            with time_machine.travel(moment + dt.timedelta(hours=self.rng.randint(14, 30)), tick=False):
                services.receive_transfer(transfer, actor=self.keeper_of(store))

    def monthly(self, moment: dt.datetime) -> None:
        self._factory_returns(moment)
        self.count_months += 1
        if self.count_months % 3 == 0:
            self.quarterly_count(moment)
        with time_machine.travel(moment + dt.timedelta(hours=9), tick=False):
            for level in StockLevel.objects.filter(warehouse=self.central).select_related("part"):
                held = (
                    StockBalance.objects.filter(warehouse=self.central, part=level.part, grade=Grade.GOOD).aggregate(
                        total=Sum("on_hand")
                    )["total"]
                    or 0
                )
                if held < level.minimum:
                    receive(
                        self.central,
                        level.part,
                        int(math.ceil(level.maximum - held)),
                        price_of(level.part.part_number),
                        self.keeper,
                        self.rng,
                        reference="月度采购",
                    )
        self.refill_regional(moment)

    def refill_regional(self, moment: dt.datetime) -> None:
        """The keeper tops the regional centres up from the central warehouse to their levels."""
        if moment + dt.timedelta(days=2) > timezone.now():
            return
        for store in self.regional.values():
            with time_machine.travel(moment + dt.timedelta(hours=10), tick=False):
                transfer = services.request_refills(actor=self.keeper, warehouse=store, source=self.central)
                if transfer is None:
                    continue
                try:
                    services.approve_transfer(transfer, actor=self.keeper)
                except ValidationError:
                    services.reject_transfer(transfer, actor=self.keeper, reason="总仓库存不足，下月再补")
                    continue
                services.ship_transfer(
                    transfer,
                    actor=self.keeper,
                    carrier=self.rng.choice(CARRIERS),
                    tracking_number=f"SF{self.rng.randint(10**11, 10**12 - 1)}",
                )
            with time_machine.travel(moment + dt.timedelta(days=1, hours=self.rng.randint(9, 15)), tick=False):
                services.receive_transfer(transfer, actor=self.keeper)

    def quarterly_count(self, moment: dt.datetime) -> None:
        """A blind count of the central warehouse: what the shelves hold, a part or two short."""
        if moment + dt.timedelta(days=3) > timezone.now():
            return
        with time_machine.travel(moment + dt.timedelta(days=2, hours=9), tick=False):
            count = services.open_count(self.central, actor=self.keeper, blind=True)
        # Serial-tracked parts are counted unit by unit in real life; the demo's differences are
        # in parts counted by quantity.
        lines = list(count.lines.filter(grade=Grade.GOOD, expected__gt=0).exclude(part__tracking=Tracking.SERIAL))
        short = {line.pk for line in self.rng.sample(lines, min(2, len(lines)))}
        counted = {line.pk: line.expected - (1 if line.pk in short else 0) for line in count.lines.all()}
        with time_machine.travel(moment + dt.timedelta(days=2, hours=15), tick=False):
            services.record_counts(count, actor=self.keeper, counted=counted)
            services.post_count(count, actor=self.keeper, reason="季度盘点，差异已核实")

    def finish(self, now: dt.datetime) -> None:
        """Today: a count of the Suzhou centre is under way."""
        store = next((s for s in self.regional.values() if s.code == "SZ-RSC"), None)
        if store is not None:
            with time_machine.travel(now - dt.timedelta(hours=2), tick=False):
                services.open_count(store, actor=self.keeper, blind=True)

    def _factory_returns(self, moment: dt.datetime) -> None:
        for store in self.stores.values():
            keeper = self.keeper_of(store)
            returned = list(selectors.awaiting_factory(store)[:150])
            if not returned:
                continue
            with time_machine.travel(moment + dt.timedelta(hours=10), tick=False):
                factory_return = services.create_factory_return(
                    actor=keeper,
                    warehouse=store,
                    lines=[{"defect": defect, "reason": self.rng.choice(FACTORY_REASONS)} for defect in returned],
                )
                services.ship_factory_return(
                    factory_return,
                    actor=keeper,
                    carrier=self.rng.choice(CARRIERS),
                    tracking_number=f"SF{self.rng.randint(10**11, 10**12 - 1)}",
                )
            self.pending_findings.append((moment + dt.timedelta(days=self.rng.randint(12, 25)), factory_return, keeper))
        self._findings(moment)

    def _findings(self, moment: dt.datetime) -> None:
        due = [item for item in self.pending_findings if item[0] <= moment]
        self.pending_findings = [item for item in self.pending_findings if item[0] > moment]
        for when, factory_return, keeper in due:
            findings = {}
            for line in factory_return.lines.select_related("defect__part"):
                finding = self.rng.choices(["confirmed", "no_fault", "damaged"], weights=[70, 22, 8])[0]
                credit = (
                    price_of(line.defect.part.part_number) * Decimal("0.6") if finding == "confirmed" else Decimal(0)
                )
                findings[line.pk] = {"finding": finding, "credit": str(credit.quantize(Decimal("0.01"))), "note": ""}
            with time_machine.travel(when, tick=False):
                services.record_finding(factory_return, actor=keeper, findings=findings)
