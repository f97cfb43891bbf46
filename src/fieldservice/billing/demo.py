"""Demo money: the price list by level, service type and zone, settlement rules, and a year of
quotations, bills, payments, invoice requests and monthly statements, all through the services.

`seed_prices` runs before the history (the engineers' levels, the default price list's labour,
travel, zone and service items, the settlement rules). `BillingHistory` is driven by the demo's
order history (`demo.history.HistoryBuilder`), on its moved clock: a quotation before the visit of
some chargeable orders, a bill when a chargeable order is closed and its payments as the weeks
pass. `finish` then expires the quotations past their date, asks for invoices and settles the past
months by statement, leaving last month's provider statement with a disputed line for a new user to
correct and settle. Completing a visit prices the order by itself (billing's on_moved hook), and
every service refreshes the orders' margins.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import time_machine
from django.db.models import Exists, OuterRef
from django.utils import timezone

from fieldservice.accounts import services as accounts
from fieldservice.accounts.choices import EngineerLevel, OrganisationKind
from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceArea, User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.billing.choices import (
    BillStatus,
    DecisionChannel,
    FeeKind,
    OnlinePaymentStatus,
    PartyKind,
    Payer,
    PaymentMethod,
    SettlementBasis,
    StatementLineKind,
    StatementStatus,
)
from fieldservice.billing.models import Bill, FeeLine, Quotation, Statement, StatementLine
from fieldservice.billing.services import charges, quotations, settlement
from fieldservice.contracts import services as contracts
from fieldservice.contracts.choices import LIVE_STATUSES, Entitlement, PriceItemKind
from fieldservice.contracts.models import PriceList
from fieldservice.customers.models import Customer
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import Channel, ServiceType, WorkOrderStatus
from fieldservice.workorders.models import FaultCategory, FaultCategoryPart, WorkOrder
from fieldservice.workorders.services import intake

CENT = Decimal("0.01")
# Labour per hour by engineer level (repairs; other work is cheaper or dearer by SERVICE_FACTOR).
LABOUR = {
    EngineerLevel.JUNIOR: Decimal("220"),
    EngineerLevel.REGULAR: Decimal("280"),
    EngineerLevel.SENIOR: Decimal("360"),
    EngineerLevel.EXPERT: Decimal("480"),
}
SERVICE_FACTOR = {
    ServiceType.REPAIR: Decimal("1"),
    ServiceType.MAINTENANCE: Decimal("0.9"),
    ServiceType.INSPECTION: Decimal("0.8"),
    ServiceType.INSTALLATION: Decimal("1.1"),
}
TRAVEL_PER_KM = Decimal("3.50")
ZONE_AREA, ZONE_FEE = "宁波", Decimal("150.00")
HYDRAULIC_FLUSH = "液压系统清洗 Hydraulic flush"
ANNUAL_PACKAGE = "年度保养套餐 Annual maintenance package"
SERVO_TUNING = "伺服参数整定 Servo tuning"
MOULD_TRIAL = "试模调机 Mould trial run"
SERVICE_ITEMS = {
    HYDRAULIC_FLUSH: Decimal("1800.00"),
    ANNUAL_PACKAGE: Decimal("2600.00"),
    SERVO_TUNING: Decimal("900.00"),
    MOULD_TRIAL: Decimal("1200.00"),
}
# The service item a quotation adds, by the fault's top category.
ITEM_FOR = {"hydraulic": HYDRAULIC_FLUSH, "servo": SERVO_TUNING, "process": MOULD_TRIAL}
DECLINE_REASONS = [
    "价格超出本月维修预算，只做检查不换件",
    "先自行更换配件，暂不需要上门维修服务",
    "与采购部核价后认为偏高",
]
REVISION_NOTES = ["客户议价，工时按九折", "增加液压系统清洗项目", "按客户要求去掉差旅费以外的配件"]
WRITE_OFF_REASON = "客户工厂已停产清算，多次催收无果，经总监批准核销"
DISPUTE_REASON = "该单两名工程师到场且夜间加班，按协议每单结算应另加 200 元"
CORRECTION_REASON = "核实考勤记录，同意加计夜间加班补贴"
ADJUSTMENT_REASON = "复核发现该单配件管理费重复计算，下期扣回"
# Payment method weights of the payments recorded by the office.
METHODS = [
    (PaymentMethod.BANK_TRANSFER, 45),
    (PaymentMethod.WECHAT_PAY, 20),
    (PaymentMethod.ALIPAY, 15),
    (PaymentMethod.CASH, 10),
]


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def seed_prices(*, rng: random.Random, admin: User) -> PriceList | None:
    """Engineer levels, the default price list's labour by level and service type, travel per km,
    a zone fee, service items and a price for every part; the settlement rules of the partner
    provider and of our engineers."""
    price_list = PriceList.objects.filter(is_default=True).first()
    if price_list is None:
        return None
    levels = [EngineerLevel.REGULAR, EngineerLevel.REGULAR, EngineerLevel.JUNIOR, EngineerLevel.SENIOR]
    profiles = EngineerProfile.objects.select_related("user__organisation", "team").order_by("user_id")
    for index, profile in enumerate(profiles):
        if profile.team is not None and profile.team.leader_id == profile.user_id:
            level = (
                EngineerLevel.EXPERT if profile.user.organisation.kind == OrganisationKind.OWN else EngineerLevel.SENIOR
            )
        else:
            level = levels[index % len(levels)]
        accounts.set_engineer_level(profile, actor=admin, level=level)

    for service_type, factor in SERVICE_FACTOR.items():
        for level, rate in LABOUR.items():
            contracts.set_price(
                price_list,
                actor=admin,
                kind=PriceItemKind.LABOUR_HOUR,
                service_type=service_type,
                engineer_level=level,
                unit_price=_money(rate * factor),
            )
    contracts.set_price(price_list, actor=admin, kind=PriceItemKind.TRAVEL_KM, unit_price=TRAVEL_PER_KM)
    area = ServiceArea.objects.filter(name=ZONE_AREA).first()
    if area is not None:
        contracts.set_price(price_list, actor=admin, kind=PriceItemKind.TRAVEL_ZONE, area=area, unit_price=ZONE_FEE)
    for name, price in SERVICE_ITEMS.items():
        contracts.set_price(price_list, actor=admin, kind=PriceItemKind.SERVICE, name=name, unit_price=price)
    priced = set(price_list.items.filter(kind=PriceItemKind.PART).values_list("part_id", flat=True))
    for part in Part.objects.filter(is_active=True).exclude(pk__in=priced).order_by("part_number"):
        cost = part.average_cost or Decimal("50")
        price = _money(cost * Decimal(rng.choice(["1.45", "1.6", "1.8"])))
        contracts.set_price(price_list, actor=admin, kind=PriceItemKind.PART, part=part, unit_price=price)

    provider = Organisation.objects.filter(kind=OrganisationKind.PROVIDER).order_by("pk").first()
    rules = []
    if provider is not None:
        rules += [
            ("瑞安 维修每单", provider, ServiceType.REPAIR, SettlementBasis.PER_ORDER, "380", None),
            ("瑞安 保养每单", provider, ServiceType.MAINTENANCE, SettlementBasis.PER_ORDER, "260", None),
            ("瑞安 配件管理费", provider, "", SettlementBasis.PARTS_FEE, "8", None),
            ("瑞安 好评奖励", provider, "", SettlementBasis.SCORE_BONUS, "50", "5"),
            ("瑞安 超时扣款", provider, "", SettlementBasis.SLA_DEDUCTION, "100", None),
        ]
    rules += [
        ("工程师 工时补贴", None, "", SettlementBasis.PER_HOUR, "40", None),
        ("工程师 工时收入提成", None, "", SettlementBasis.LABOUR_SHARE, "10", None),
        ("工程师 好评奖励", None, "", SettlementBasis.SCORE_BONUS, "30", "5"),
    ]
    for name, party, service_type, basis, rate, threshold in rules:
        settlement.create_rule(
            actor=admin,
            name=name,
            provider=party,
            service_type=service_type,
            basis=basis,
            rate=rate,
            threshold=threshold,
        )
    return price_list


class BillingHistory:
    """The money side of the demo's history, called by `HistoryBuilder` at its moments."""

    def __init__(self, rng: random.Random, *, agent: User, director: User, provider_admin: User, now=None):
        self.rng = rng
        self.agent, self.director, self.provider_admin = agent, director, provider_admin
        self.now = now or timezone.now()
        self.awaiting = 0  # quotations left for the customer on open orders
        self.expiring = 0  # quotations the customer never answered
        self.revised = 0  # quotations revised to a version 2
        self.written_off = False
        self.invoiced: list[Bill] = []
        self.usual_parts: dict[int, list[Part]] = {}
        for row in FaultCategoryPart.objects.select_related("part").order_by("pk"):
            self.usual_parts.setdefault(row.category_id, []).append(row.part)

    # -- quotations, before the visit ---------------------------------------------------------

    def before_visit(self, order: WorkOrder, engineer: User, clock, state: str) -> None:
        """A quotation for a share of the chargeable repairs and maintenance, written after the
        engineer accepted and before he sets out; most are approved through the follow link."""
        rng = self.rng
        if order.entitlement != Entitlement.CHARGEABLE:
            return
        if order.service_type not in (ServiceType.REPAIR, ServiceType.MAINTENANCE):
            return
        # One or two quotations are left awaiting the customer on orders still open.
        awaited = state in ("accepted", "travelling", "on_site", "on_hold") and self.awaiting < 2
        if not awaited and rng.random() > 0.15:
            return
        with time_machine.travel(clock.later(rng, 10, 90), tick=False):
            today = timezone.localdate()
            quotation = quotations.create_quotation(
                order,
                actor=self.agent,
                lines=self.lines(order),
                valid_until=today + dt.timedelta(days=rng.choice([7, 14, 14, 30])),
                tax_rate=rng.choice(["6", "13"]),
                note="",
            )
            quotations.send_quotation(quotation, actor=self.agent)
        # The first quotation is always revised, so even a small demo shows a version 2.
        if not self.revised or rng.random() < 0.3:
            self.revised += 1
            with time_machine.travel(clock.later(rng, 20, 180), tick=False):
                quotations.revise_quotation(
                    quotation,
                    actor=self.agent,
                    lines=self.lines(order, discount=True),
                    valid_until=timezone.localdate() + dt.timedelta(days=14),
                    tax_rate=quotation.versions.order_by("-number").first().tax_rate,
                    note=rng.choice(REVISION_NOTES),
                )
        if awaited:
            self.awaiting += 1
            return  # awaiting the customer
        if state == "cancelled":
            # The customer called the visit off: the office withdraws the quotation.
            with time_machine.travel(clock.later(rng, 30, 300), tick=False):
                quotations.void_quotation(quotation, actor=self.agent, reason="客户取消报修，报价作废")
            return
        if self.expiring < 1 and clock.now < self.now - dt.timedelta(days=45):
            # The customer never answered; the periodic check expires it (at `finish`).
            self.expiring += 1
            return
        with time_machine.travel(clock.later(rng, 30, 300), tick=False):
            if rng.random() < 0.1:
                quotations.decline_quotation(
                    quotation,
                    version=quotation.version,
                    reason=rng.choice(DECLINE_REASONS),
                    channel=DecisionChannel.FOLLOW_LINK,
                    follow_token=order.request.follow_token,
                )
            else:
                quotations.approve_quotation(
                    quotation,
                    version=quotation.version,
                    channel=DecisionChannel.FOLLOW_LINK,
                    follow_token=order.request.follow_token,
                )

    def lines(self, order: WorkOrder, discount: bool = False) -> list[dict]:
        """Labour and travel from the price list, a service item for the kind of fault, and the
        part such a fault usually needs."""
        rng = self.rng
        hours = Decimal(rng.choice(["2", "3", "4", "6"]))
        lines = [
            {"kind": FeeKind.LABOUR, "description": "维修工时 Labour", "quantity": hours},
            {"kind": FeeKind.TRAVEL, "description": "差旅 Travel", "quantity": rng.randint(15, 90)},
        ]
        if discount:
            labour = LABOUR[EngineerLevel.REGULAR] * hours
            lines[0]["discount"] = _money(labour * Decimal("0.1"))
        category = order.fault_category
        top = category.parent.code if category is not None and category.parent_id else ""
        item = ANNUAL_PACKAGE if order.service_type == ServiceType.MAINTENANCE else ITEM_FOR.get(top)
        if item:
            lines.append({"kind": FeeKind.SERVICE, "description": item, "quantity": 1})
        parts = self.usual_parts.get(order.fault_category_id) or []
        if parts:
            lines.append({"kind": FeeKind.PART, "part": parts[0], "quantity": 1})
        return lines

    # -- bills and payments, at closing -------------------------------------------------------

    def after_close(self, order: WorkOrder, clock) -> None:
        """The bill of a closed order with chargeable lines, issued at closing; its payments, as
        far as they happened by now."""
        if not FeeLine.objects.filter(work_order=order, is_void=False, payer=Payer.CUSTOMER, amount__gt=0).exists():
            return
        rng = self.rng
        with time_machine.travel(min(clock.now + dt.timedelta(minutes=rng.randint(5, 60)), self.now), tick=False):
            bill = charges.draft_bill(order, actor=self.agent)
            bill = charges.issue_bill(bill, actor=self.agent)
        issued = bill.issued_at
        fate = rng.choices(["paid", "online", "partly", "open"], weights=[68, 10, 8, 14])[0]
        if fate == "open":
            if not self.written_off and issued < self.now - dt.timedelta(days=150):
                with time_machine.travel(issued + dt.timedelta(days=rng.randint(90, 120)), tick=False):
                    charges.write_off_bill(bill, actor=self.director, reason=WRITE_OFF_REASON)
                self.written_off = True
            return  # unpaid: a receivable, overdue once its due date passed
        moment = issued + dt.timedelta(days=rng.randint(2, 40), hours=rng.randint(0, 6))
        if moment > self.now:
            return  # not paid yet
        with time_machine.travel(moment, tick=False):
            if fate == "online":
                method = rng.choice([PaymentMethod.WECHAT_PAY, PaymentMethod.ALIPAY])
                online = charges.start_online_payment(
                    bill, method=method, follow_token=order.request.follow_token, gateway="sandbox"
                )
                charges.complete_online_payment(
                    gateway="sandbox",
                    token=online.token,
                    reference=f"SBX{moment:%Y%m%d%H%M}{online.pk:05d}",
                    amount=online.amount,
                    status=OnlinePaymentStatus.SUCCEEDED,
                )
            else:
                amount = bill.total if fate == "paid" else _money(bill.total * Decimal(rng.choice(["0.3", "0.5"])))
                method = rng.choices([m for m, _w in METHODS], [w for _m, w in METHODS])[0]
                charges.record_payment(
                    bill,
                    actor=self.agent,
                    amount=amount,
                    method=method,
                    reference=self.reference(method, moment, bill),
                    paid_at=moment,
                )
        if fate == "paid" and len(self.invoiced) < 2 and rng.random() < 0.2:
            self.invoiced.append(bill)

    def reference(self, method: str, moment: dt.datetime, bill: Bill) -> str:
        if method == PaymentMethod.CASH:
            return f"现金收据 No.{bill.pk:06d}"
        if method == PaymentMethod.BANK_TRANSFER:
            return f"招行回单 {moment:%Y%m%d}{self.rng.randrange(10**6):06d}"
        return f"{moment:%Y%m%d}{self.rng.randrange(10**10):010d}"

    # -- after the history --------------------------------------------------------------------

    def finish(self) -> None:
        quotations.expire_quotations(timezone.localdate(self.now))
        self.invoices()
        self.statements()

    def open_repair(self) -> None:
        """The walk-through's chargeable repair: an open one without a quotation, else a new one
        reported just now (preferably by the company of the `customer` login). Called last, after
        the dispatch rules and the pool have acted on the open orders."""
        if _open_repairs().exists():
            return
        today = timezone.localdate(self.now)
        portal = Customer.objects.filter(organisation__users__username="customer").values_list("pk", flat=True)
        machines = (
            Equipment.objects.filter(status=EquipmentStatus.REGISTERED, site__isnull=False)
            .exclude(warranty_ends_on__gte=today)
            .exclude(contracts__status__in=list(LIVE_STATUSES))
            .annotate(portal=Exists(portal.filter(pk=OuterRef("customer_id"))))
            .select_related("customer")
            .order_by("-portal", "pk")
        )
        category = FaultCategory.objects.filter(code="hyd-leak").first()
        for machine in machines[:5]:
            request = intake.file_request(
                actor=self.agent,
                channel=Channel.PHONE,
                customer=machine.customer,
                contact=machine.customer.contacts.order_by("pk").first(),
                equipment=machine,
                service_type=ServiceType.REPAIR,
                fault_category=category,
                description="注射油缸漏油，地面有油迹，客户要求先报价再维修",
            )
            order = intake.create_work_order(request, actor=self.agent)
            if order.entitlement == Entitlement.CHARGEABLE:
                return

    def invoices(self) -> None:
        """Two invoice requests by the customers: one issued, one still open."""
        for index, bill in enumerate(self.invoiced):
            customer = bill.customer
            moment = min(bill.updated_at + dt.timedelta(days=1), self.now - dt.timedelta(minutes=30))
            with time_machine.travel(moment, tick=False):
                request = charges.request_invoice(
                    bill,
                    actor=None,
                    title=customer.name,
                    tax_number=f"91330{customer.pk:05d}MA2{bill.pk:05d}",
                    address_phone="浙江省宁波市 0574-86880000",
                    follow_token=bill.work_order.request.follow_token,
                )
            if index == 0:
                with time_machine.travel(min(moment + dt.timedelta(days=2), self.now), tick=False):
                    charges.issue_invoice(request, actor=self.agent, invoice_number=f"3302{bill.pk:08d}")

    def months(self) -> list[tuple[dt.date, dt.date]]:
        """The calendar months of the history before the current one, oldest first."""
        first_close = (
            WorkOrder.objects.filter(status=WorkOrderStatus.CLOSED)
            .order_by("closed_at")
            .values_list("closed_at", flat=True)
            .first()
        )
        if first_close is None:
            return []
        day = timezone.localdate(first_close).replace(day=1)
        this_month = timezone.localdate(self.now).replace(day=1)
        periods = []
        while day < this_month:
            following = (day + dt.timedelta(days=32)).replace(day=1)
            periods.append((day, following - dt.timedelta(days=1)))
            day = following
        return periods

    def at(self, day: dt.date, hour: int) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59))))
        return min(moment, self.now - dt.timedelta(minutes=10))

    def statements(self) -> None:
        """Each past month's statements: generated on the 2nd, answered, approved and settled;
        last month's provider statement has a line its administrator disputed; after the month
        before was settled, one order is corrected by an adjustment (it lands on last month's)."""
        periods = self.months()
        for index, (start, end) in enumerate(periods):
            last = index == len(periods) - 1
            following = end + dt.timedelta(days=1)
            with time_machine.travel(self.at(following + dt.timedelta(days=1), 9), tick=False):
                summary = settlement.generate_statements(actor=self.director, period_start=start, period_end=end)
            made = list(
                Statement.objects.filter(pk__in=summary.statement_ids).select_related("engineer").order_by("pk")
            )
            if last:
                self.leave_for_the_walkthrough(made, following)
                continue
            with time_machine.travel(self.at(following + dt.timedelta(days=3), 10), tick=False):
                for statement in made:
                    if statement.party_kind == PartyKind.PROVIDER:
                        settlement.confirm_statement(statement, actor=self.provider_admin)
                    elif self.rng.random() < 0.6:
                        settlement.confirm_statement(statement, actor=statement.engineer)
            with time_machine.travel(self.at(following + dt.timedelta(days=5), 15), tick=False):
                for statement in made:
                    settlement.approve_statement(statement, actor=self.director)
            settled_on = following + dt.timedelta(days=9)
            with time_machine.travel(self.at(settled_on, 11), tick=False):
                for number, statement in enumerate(made, start=1):
                    settlement.settle_statement(
                        statement, actor=self.director, payment_reference=f"结算付款 {settled_on:%Y%m}-{number:03d}"
                    )
            if index == len(periods) - 2:
                self.adjust(made, settled_on)

    def adjust(self, statements: list[Statement], settled_on: dt.date) -> None:
        line = (
            StatementLine.objects.filter(
                statement__in=statements, kind=StatementLineKind.ORDER, statement__status=StatementStatus.SETTLED
            )
            .order_by("-statement__party_kind", "pk")  # a provider's order first
            .select_related("work_order")
            .first()
        )
        if line is None:
            return
        with time_machine.travel(self.at(settled_on + dt.timedelta(days=2), 14), tick=False):
            settlement.adjust_settled_order(
                line.work_order, actor=self.director, amount="-30.00", reason=ADJUSTMENT_REASON
            )

    def leave_for_the_walkthrough(self, statements: list[Statement], following: dt.date) -> None:
        """Last month: the provider disputes a line (the manager corrects it and settles, in the
        walk-through); our engineers have theirs to confirm."""
        provider = next((s for s in statements if s.party_kind == PartyKind.PROVIDER), None)
        if provider is None:
            return
        line = provider.lines.filter(kind=StatementLineKind.ORDER).order_by("pk").first()
        if line is None:
            return
        with time_machine.travel(self.at(following + dt.timedelta(days=3), 16), tick=False):
            settlement.dispute_line(line, actor=self.provider_admin, reason=DISPUTE_REASON)


def _open_repairs():
    return WorkOrder.objects.filter(
        status__in=[WorkOrderStatus.NEW, WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED],
        entitlement=Entitlement.CHARGEABLE,
        service_type=ServiceType.REPAIR,
    ).exclude(pk__in=Quotation.objects.values("work_order_id"))


def walkthrough() -> list[str]:
    """Where a new user starts the issue's walk-through: a warranty order priced at zero for the
    customer, an open chargeable repair without a quotation, last month's disputed statement."""
    found = []
    warranty = (
        WorkOrder.objects.filter(
            status=WorkOrderStatus.CLOSED,
            entitlement=Entitlement.WARRANTY,
            fee_lines__is_void=False,
            fee_lines__payer=Payer.WARRANTY,
            fee_lines__cost__gt=0,
        )
        .order_by("-closed_at")
        .values_list("number", flat=True)
        .first()
    )
    if warranty:
        found.append(f"warranty order priced at zero for the customer: {warranty}")
    repair = _open_repairs().order_by("-created_at").values_list("number", flat=True).first()
    if repair:
        found.append(f"open chargeable repair without a quotation: {repair}")
    disputed = (
        Statement.objects.filter(party_kind=PartyKind.PROVIDER, status=StatementStatus.DISPUTED)
        .values_list("number", flat=True)
        .first()
    )
    if disputed:
        found.append(f"provider statement with a disputed line (sign in as provider / director): {disputed}")
    return found


def counts() -> list[tuple[str, int]]:
    from fieldservice.billing.models import OrderMargin, Payment

    return [
        ("quotations", Quotation.objects.count()),
        ("bills", Bill.objects.exclude(status=BillStatus.DRAFT).count()),
        ("payments", Payment.objects.count()),
        ("statements", Statement.objects.count()),
        ("order margins", OrderMargin.objects.count()),
    ]
