"""A year of service history for the demo, made through the real services on a moved clock.

Every order walks the same path a real one does (request → order → dispatch → accept →
travel → check in → work → signature → complete → close → evaluation), with the clock set
to when each step happened, so lists, timelines, SLA figures and ratings look lived-in.
"""

import contextlib
import datetime as dt
import io
import random
from dataclasses import dataclass
from decimal import Decimal

import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from fieldservice.accounts.models import Skill, User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.billing.demo import BillingHistory
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.dispatch.assignments.selectors import candidates_for
from fieldservice.feedback.services import record_callback, submit_evaluation
from fieldservice.field import demo as field_demo
from fieldservice.field import services as field
from fieldservice.inventory.demo import StockHistory
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import Channel, HoldReason, Priority, ResolutionType, ServiceType
from fieldservice.workorders.models import FaultCategory, FaultCategoryPart
from fieldservice.workorders.services import intake, lifecycle

# code, name, English name, skill code, children: (code, name, English name, [descriptions], cause, action)
FAULT_TREE = [
    (
        "hydraulic",
        "液压系统",
        "Hydraulic system",
        "hydraulics",
        [
            (
                "hyd-oil-temp",
                "油温过高",
                "Oil temperature too high",
                ["液压油温过高报警，连续生产两小时后停机", "油温报警 65℃，冷却水已开"],
                "冷却器结垢，换热效率下降",
                "清洗油冷却器，更换液压油滤芯，试机油温稳定在 45℃",
            ),
            (
                "hyd-pump-noise",
                "液压泵异响",
                "Hydraulic pump noise",
                ["液压泵有尖锐异响，压力波动", "开机后油泵声音很大"],
                "吸油滤网堵塞导致吸空",
                "清洗吸油滤网，排气，检查泵体无损伤",
            ),
            (
                "hyd-leak",
                "漏油",
                "Oil leak",
                ["注射油缸漏油，地面有油迹", "合模油缸密封处渗油"],
                "油缸密封圈老化",
                "更换油缸密封圈组件，保压测试无泄漏",
            ),
        ],
    ),
    (
        "electrical",
        "电气系统",
        "Electrical system",
        "electrical",
        [
            (
                "ele-heater",
                "加热异常",
                "Heating fault",
                ["第三段料筒温度升不上去", "加热圈温度报警，实际温度偏低"],
                "加热圈烧断",
                "更换加热圈，校验温控",
            ),
            (
                "ele-thermocouple",
                "热电偶故障",
                "Thermocouple fault",
                ["温度显示跳变，时有时无", "料筒温度显示 999"],
                "热电偶线断路",
                "更换热电偶并重新接线",
            ),
            (
                "ele-overload",
                "电机过载跳闸",
                "Motor overload trip",
                ["电机过载跳闸，复位后又跳", "开机即跳空开"],
                "接触器触点烧蚀",
                "更换接触器，紧固端子",
            ),
        ],
    ),
    (
        "servo",
        "伺服驱动",
        "Servo drive",
        "servo",
        [
            (
                "servo-alarm",
                "伺服报警",
                "Servo alarm",
                ["伺服驱动器报警 AL.16", "伺服报警停机，代码 Er-25"],
                "编码器信号受干扰",
                "重新布线屏蔽层接地，复位参数",
            ),
            (
                "servo-encoder",
                "编码器故障",
                "Encoder fault",
                ["位置偏差过大报警", "开合模位置不准"],
                "编码器损坏",
                "更换伺服电机编码器并校零",
            ),
        ],
    ),
    (
        "controls",
        "控制系统",
        "Controls",
        "controls",
        [
            (
                "ctl-hmi",
                "触摸屏黑屏",
                "Touch screen blank",
                ["操作屏黑屏，机器无法操作", "触摸屏无反应"],
                "屏幕电源模块损坏",
                "更换人机界面触摸屏",
            ),
            (
                "ctl-params",
                "参数丢失",
                "Parameters lost",
                ["停电后工艺参数丢失", "模具参数调不出来"],
                "后备电池电量耗尽",
                "更换 PLC 后备电池，恢复参数备份",
            ),
        ],
    ),
    (
        "mechanical",
        "机械 / 注射单元",
        "Mechanical / injection unit",
        "mechanical",
        [
            (
                "mec-screw",
                "螺杆打滑",
                "Screw slipping",
                ["熔胶时间变长，螺杆打滑", "射胶量不稳定"],
                "止逆环磨损",
                "更换止逆环组件，检查螺杆磨损",
            ),
            (
                "mec-clamp",
                "合模异常",
                "Clamping fault",
                ["合模不到位，高压锁模报警", "开模有异响"],
                "曲肘润滑不足",
                "清理润滑管路，加注润滑脂，调整模厚",
            ),
        ],
    ),
    (
        "process",
        "模具 / 工艺",
        "Mould / process",
        "moulds",
        [
            (
                "pro-flash",
                "产品飞边",
                "Flash on parts",
                ["产品有飞边，客户投诉", "制品毛边多"],
                "锁模力不足，模具分型面磨损",
                "调整锁模力和注射压力，建议修模",
            ),
            (
                "pro-short",
                "缺料 / 缩水",
                "Short shots / sink marks",
                ["产品缺料，尺寸不稳定", "产品表面缩水"],
                "保压时间不足",
                "优化保压压力和时间",
            ),
        ],
    ),
]

REJECT_REASONS = ["今天在另一个客户现场，赶不过去", "车辆维修中", "缺少该机型的备件"]
CALLBACK_RESULTS = ["已回访，客户认可处理结果", "已回访，安排工程师二次上门", "客户对响应速度不满，已致歉并改进"]


def _signature_png() -> bytes:
    image = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(20, 80), (80, 40), (140, 90), (200, 30), (260, 85), (330, 50)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class FutureStepError(Exception):
    """The next step of an order would fall after the real now: the order stops before it."""


@dataclass
class Clock:
    """The demo's notion of now for one order; each step moves it forward, never past `limit`
    (the real now): a history has no ratings or closes dated tomorrow."""

    now: dt.datetime
    limit: dt.datetime

    def later(self, rng: random.Random, low_minutes: int, high_minutes: int) -> dt.datetime:
        moment = self.now + dt.timedelta(minutes=rng.randint(low_minutes, high_minutes))
        if moment > self.limit:
            raise FutureStepError
        self.now = moment
        return self.now


# The parts a fault of each kind usually needs (by part-number prefix): new orders list them.
USUAL_PARTS = {
    "hyd-oil-temp": ["HR-OC", "HR-TC-K"],
    "hyd-pump-noise": ["HR-HP-40"],
    "hyd-leak": ["HR-SEAL-INJ", "HR-ORING"],
    "ele-heater": ["HR-HTB-50", "HR-SSR-40"],
    "ele-thermocouple": ["HR-TC-J"],
    "servo-alarm": ["HR-SD-18"],
    "servo-encoder": ["HR-SM-18"],
    "ctl-hmi": ["HR-HMI-10"],
    "mec-screw": ["HR-CHK-50"],
}


def fault_tree(skills: dict[str, Skill]) -> list[tuple[FaultCategory, tuple]]:
    """Reference data: the fault categories (no service yet; administrators edit them in admin)."""
    leaves = []
    for code, name, name_en, skill_code, children in FAULT_TREE:
        parent = FaultCategory.objects.create(code=code, name=name, name_en=name_en, skill=skills.get(skill_code))
        for child in children:
            leaf = FaultCategory.objects.create(
                code=child[0], name=child[1], name_en=child[2], parent=parent, skill=skills.get(skill_code)
            )
            leaves.append((leaf, child))
            for number in USUAL_PARTS.get(child[0], ()):
                part = Part.objects.filter(part_number=number).first()
                if part is not None:
                    FaultCategoryPart.objects.create(category=leaf, part=part, quantity=1)
    return leaves


class HistoryBuilder:
    def __init__(
        self,
        rng: random.Random,
        *,
        admin: User,
        agent: User,
        dispatcher: User,
        count: int,
        stock: StockHistory | None = None,
        billing: BillingHistory | None = None,
        days: int = 365,
        progress=None,
    ):
        self.rng = rng
        self.days = days
        self.progress = progress or (lambda done, total: None)
        self._candidates: dict[tuple, list] = {}
        self.admin, self.agent, self.dispatcher = admin, agent, dispatcher
        self.count = count
        self.stock = stock
        self.billing = billing
        self.signature = _signature_png()
        # The history ends now: a step that would come later does not happen (Clock.limit).
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)

    def build(self) -> dict[str, int]:
        skills = {skill.code: skill for skill in Skill.objects.all()}
        self.leaves = fault_tree(skills)
        self.machines = list(
            Equipment.objects.filter(status=EquipmentStatus.REGISTERED, site__isnull=False)
            .select_related("customer", "site", "product_model")
            .order_by("pk")
        )
        totals: dict[str, int] = {}
        every = max(1, -(-self.count // 10))  # about ten progress lines, whatever the size
        days = self.days
        # Told oldest first, as it happened: order numbers and the stock ledger run with time.
        moments = sorted(
            (
                self.rng.triangular(0, days, min(30, days)) if index % 10 else self.rng.uniform(0, min(12, days))
                for index in range(self.count)
            ),
            reverse=True,
        )
        for index, days_ago in enumerate(moments):
            state = self.outcome(days_ago)
            if self.stock is not None:
                self.stock.tick(self.start(days_ago))
            with contextlib.suppress(FutureStepError):  # the order stays where it is by now
                self.order(days_ago, state)
            totals[state] = totals.get(state, 0) + 1
            if (index + 1) % every == 0 or index + 1 == self.count:
                self.progress(index + 1, self.count)
        totals["consultations"] = self.consultations(max(2, self.count // 20))
        if self.stock is not None:
            self.stock.finish(self.now)
        return totals

    def outcome(self, days_ago: float) -> str:
        recent = [
            "new",
            "dispatched",
            "accepted",
            "travelling",
            "on_site",
            "on_hold",
            "rejected",
            "completed",
            "closed",
            "closed",
            "cancelled",
        ]
        if days_ago < 3:
            return self.rng.choice(recent)
        if days_ago < 14:
            return self.rng.choice(["completed", "closed", "closed", "closed", "on_hold", "cancelled"])
        return self.rng.choices(["closed", "completed", "cancelled"], weights=[92, 3, 5])[0]

    def start(self, days_ago: float) -> dt.datetime:
        day = self.today - dt.timedelta(days=int(days_ago))
        moment = dt.datetime.combine(day, dt.time(self.rng.randint(8, 16), self.rng.randint(0, 59)))
        moment = timezone.make_aware(moment)
        if moment > self.now - dt.timedelta(hours=1):
            # Later today: reported in the last hours instead, so that it can have moved on.
            moment = self.now - dt.timedelta(minutes=self.rng.randint(60, 600))
        return moment

    def order(self, days_ago: float, state: str) -> None:
        rng = self.rng
        machine = rng.choice(self.machines)
        leaf, (_code, _name, _en, descriptions, cause, action) = rng.choice(self.leaves)
        clock = Clock(self.start(days_ago), limit=self.now)
        contact = machine.customer.contacts.order_by("pk").first()
        with time_machine.travel(clock.now, tick=False):
            request = intake.file_request(
                actor=self.agent,
                channel=rng.choice([Channel.PHONE] * 5 + [Channel.QR, Channel.EMAIL, Channel.PORTAL]),
                customer=machine.customer,
                contact=contact,
                equipment=machine,
                service_type=rng.choices(
                    [ServiceType.REPAIR, ServiceType.MAINTENANCE, ServiceType.INSPECTION, ServiceType.INSTALLATION],
                    weights=[80, 10, 6, 4],
                )[0],
                priority=rng.choices(
                    [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT], weights=[10, 60, 22, 8]
                )[0],
                fault_category=leaf,
                description=rng.choice(descriptions),
            )
        with time_machine.travel(clock.later(rng, 2, 15), tick=False):
            order = intake.create_work_order(request, actor=self.agent)
        if state == "new":
            return
        if state == "cancelled" and rng.random() < 0.5:
            with time_machine.travel(clock.later(rng, 10, 120), tick=False):
                lifecycle.cancel_work_order(order, actor=self.agent, reason="客户已自行解决")
            return
        # Ranking engineers for every order is the slow part of a demo load; a site's best
        # engineers for a kind of fault are the same all year in the demo.
        key = (order.site_id, order.fault_category_id)
        if key not in self._candidates:
            self._candidates[key] = self.engineer_for(order)
        engineer = self._candidates[key]
        if engineer is None:
            return
        with time_machine.travel(clock.later(rng, 5, 90), tick=False):
            assignment = dispatch.dispatch_to_engineer(order, actor=self.dispatcher, engineer=engineer)
        if state == "dispatched":
            return
        if state == "rejected":
            with time_machine.travel(clock.later(rng, 5, 60), tick=False):
                dispatch.reject_assignment(assignment, actor=engineer, reason=rng.choice(REJECT_REASONS))
            return
        with time_machine.travel(clock.later(rng, 3, 45), tick=False):
            dispatch.accept_assignment(assignment, actor=engineer)
        if self.billing is not None:  # a quotation for chargeable work, before the visit
            self.billing.before_visit(order, engineer, clock, state)
        if state == "cancelled":
            with time_machine.travel(clock.later(rng, 10, 120), tick=False):
                lifecycle.cancel_work_order(order, actor=self.agent, reason="客户取消报修")
            return
        self.visit(order, engineer, machine, clock, state, cause, action)

    def engineer_for(self, order) -> User | None:
        """The best ranked engineer whose service areas cover the site: a dispatcher does not send
        a Ningbo engineer to Suzhou because he has the skill. Who is off today still did last
        year's work; the skill counts, but an engineer of the area goes without it."""
        ranked = [c for c in candidates_for(order, self.dispatcher, limit=1000) if c.covers_area]
        ranked.sort(key=lambda c: (not c.has_skill, c.distance_km if c.distance_km is not None else 1e9))
        return ranked[0].engineer if ranked else None

    def visit(self, order, engineer, machine, clock: Clock, state: str, cause: str, action: str) -> None:
        rng = self.rng
        if state == "accepted":
            return
        with time_machine.travel(clock.later(rng, 10, 240), tick=False):
            field.start_travel(order, actor=engineer)
        if state == "travelling":
            return
        latitude = machine.site.latitude + Decimal(f"{rng.uniform(-0.0008, 0.0008):.6f}")
        longitude = machine.site.longitude + Decimal(f"{rng.uniform(-0.0008, 0.0008):.6f}")
        with time_machine.travel(clock.later(rng, 20, 180), tick=False):
            field.check_in(order, actor=engineer, latitude=latitude, longitude=longitude, accuracy=15)
        if state == "on_hold":
            with time_machine.travel(clock.later(rng, 20, 90), tick=False):
                lifecycle.put_on_hold(order, actor=engineer, hold_reason=HoldReason.WAITING_PARTS)
            return
        if state == "on_site":
            return
        resolution = ResolutionType.REPLACE_PART if "更换" in action else ResolutionType.REPAIR
        with time_machine.travel(clock.later(rng, 30, 180), tick=False):
            field.record_work(
                order,
                actor=engineer,
                resolution_type=resolution,
                fault_cause=cause,
                actions_taken=action,
                labour_hours=Decimal(rng.choice(["1.5", "2", "2.5", "3", "4", "6"])),
            )
            if resolution == ResolutionType.REPLACE_PART:
                fitted = machine.fitted_parts.select_related("part").order_by("?").first()
                if fitted is not None:
                    held = self.stock.ensure_in_van(engineer, fitted.part, order, clock.now) if self.stock else None
                    lot, serial = held or ("", "")
                    field.use_part(
                        order, actor=engineer, part=fitted.part, quantity=1, replaces=fitted, lot=lot, serial=serial
                    )
            # The job steps of the order's template, answered on site before the visit ends.
            answers = field_demo.answers_for(order, machine, rng)
            if answers:
                field.answer_steps(order, actor=engineer, answers=answers)
            field.capture_signature(
                order,
                actor=engineer,
                signer_name=machine.customer.contacts.values_list("name", flat=True).first() or "客户",
                image_file=ContentFile(self.signature, name="signature.png"),
            )
            field.complete_visit(order, actor=engineer)
        if state == "completed":
            return
        with time_machine.travel(clock.later(rng, 60 * 6, 60 * 48), tick=False):
            lifecycle.close_work_order(order, actor=self.agent, note="回单已审核")
        if self.billing is not None:  # the bill, issued at closing, and its payments
            self.billing.after_close(order, clock)
        if rng.random() < 0.7:
            scores = [rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 8, 30, 57])[0] for _ in range(4)]
            with time_machine.travel(clock.later(rng, 30, 60 * 24), tick=False):
                evaluation = submit_evaluation(
                    order,
                    follow_token=order.request.follow_token,
                    overall=scores[0],
                    timeliness=scores[1],
                    attitude=scores[2],
                    quality=scores[3],
                    comment=rng.choice(["", "", "服务很好，响应及时", "工程师很专业"]),
                )
            if evaluation.needs_callback and rng.random() < 0.8:
                with time_machine.travel(clock.later(rng, 60, 60 * 24), tick=False):
                    record_callback(evaluation, actor=self.agent, result=rng.choice(CALLBACK_RESULTS))

    def consultations(self, count: int) -> int:
        for _ in range(count):
            machine = self.rng.choice(self.machines)
            with time_machine.travel(self.start(self.rng.uniform(1, max(1, self.days - 65))), tick=False):
                request = intake.file_request(
                    actor=self.agent,
                    channel=Channel.PHONE,
                    customer=machine.customer,
                    equipment=machine,
                    service_type=ServiceType.CONSULTATION,
                    description="咨询模具温度设置和保压参数",
                )
                intake.resolve_without_visit(request, actor=self.agent, resolution="电话指导客户调整保压参数，问题解决")
        return count
