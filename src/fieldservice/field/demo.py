"""Demo job templates (标准作业) for the demo's injection-moulding machines, made through the
services, and the answers an engineer of the demo's history gives on site.

`seed_job_templates` runs before the history, so the orders the history creates get their steps
from the creation hook: the maintenance and inspection orders of every machine, and the repairs of
the all-electric line (a share of the year, so the demo loads about as fast as before).
`answers_for` is what the history's engineer answers before completing a visit: values within the
range, now and then one outside it with his comment.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.assets.choices import OPERATING_HOURS
from fieldservice.assets.models import ProductModel
from fieldservice.core.choices import ServiceType
from fieldservice.field import services
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.field.models import JobStep, JobTemplate

K = StepKind
HYDRAULIC_LINE = "伺服液压系列"
ELECTRIC_LINE = "全电动系列"
HOURS_PER_DAY = 14  # the demo's machines run two shifts

LOCK_OUT = {
    "kind": K.INSTRUCTION,
    "title": "断电并挂牌上锁 Switch off, lock out and tag",
    "help_text": "关闭主电源和液压泵，挂“维修中”警示牌。Switch off the main power and the pump; hang the warning tag.",
}
OIL_TEMPERATURE = {
    "kind": K.NUMBER,
    "title": "液压油温 Hydraulic oil temperature",
    "unit": "℃",
    "min_value": "30",
    "max_value": "55",
    "help_text": "连续运行 30 分钟后在油箱测温口测量。Measure at the tank after 30 minutes of running.",
}
PRESSURE = {
    "kind": K.NUMBER,
    "title": "系统压力 System pressure",
    "unit": "MPa",
    "min_value": "13.5",
    "max_value": "14.5",
}
OIL_LEVEL = {"kind": K.CHOICE, "title": "液压油位 Oil level", "choices": ["偏高 High", "正常 Normal", "偏低 Low"]}
SAFETY_GATE = {"kind": K.YES_NO, "title": "安全门联锁正常 Safety gate interlock works"}
EMERGENCY_STOP = {"kind": K.YES_NO, "title": "急停按钮有效 Emergency stop works"}
FILTER = {"kind": K.YES_NO, "title": "已更换液压油滤芯 Oil filter replaced"}
HOURS = {"kind": K.METER, "title": "运行小时 Operating hours", "unit": "h", "meter": OPERATING_HOURS}
NAME_PLATE = {"kind": K.SCAN, "title": "扫描铭牌序列号 Scan the serial number on the name plate"}
PHOTO = {"kind": K.PHOTO, "title": "现场照片 Photo of the machine", "required": False}
NOTES = {"kind": K.TEXT, "title": "备注 Notes", "required": False}

TEMPLATES = [
    (
        "注塑机年度保养 Annual maintenance of injection moulding machine",
        ServiceType.MAINTENANCE,
        {"product_line": HYDRAULIC_LINE},
        ReportLayout.CHECKLIST,
        [LOCK_OUT, OIL_TEMPERATURE, PRESSURE, OIL_LEVEL, FILTER, SAFETY_GATE, HOURS, NAME_PLATE, PHOTO, NOTES],
    ),
    (
        "HR-1000 大型注塑机年度保养 Annual maintenance of HR-1000",
        ServiceType.MAINTENANCE,
        {"model": "HR-1000"},
        ReportLayout.CHECKLIST,
        [
            LOCK_OUT,
            OIL_TEMPERATURE,
            PRESSURE,
            OIL_LEVEL,
            FILTER,
            {"kind": K.YES_NO, "title": "拉杆已润滑 Tie bars lubricated"},
            {
                "kind": K.NUMBER,
                "title": "锁模力偏差 Clamping force deviation",
                "unit": "%",
                "min_value": "-2",
                "max_value": "2",
            },
            SAFETY_GATE,
            HOURS,
            NAME_PLATE,
            PHOTO,
            NOTES,
        ],
    ),
    (
        "全电动注塑机保养 Maintenance of all-electric machine",
        ServiceType.MAINTENANCE,
        {"product_line": ELECTRIC_LINE},
        ReportLayout.STANDARD,
        [
            LOCK_OUT,
            {
                "kind": K.NUMBER,
                "title": "伺服驱动器温度 Servo drive temperature",
                "unit": "℃",
                "min_value": "20",
                "max_value": "60",
            },
            {"kind": K.YES_NO, "title": "滚珠丝杠已润滑 Ball screws lubricated"},
            SAFETY_GATE,
            HOURS,
            NOTES,
        ],
    ),
    (
        "全电动注塑机维修检查 Repair checks of all-electric machine",
        ServiceType.REPAIR,
        {"product_line": ELECTRIC_LINE},
        ReportLayout.STANDARD,
        [LOCK_OUT, SAFETY_GATE, HOURS],
    ),
    (
        "设备巡检 Machine inspection",
        ServiceType.INSPECTION,
        {},
        ReportLayout.CHECKLIST,
        [
            {"kind": K.CHOICE, "title": "外观 Condition", "choices": ["良好 Good", "一般 Fair", "差 Poor"]},
            EMERGENCY_STOP,
            SAFETY_GATE,
            OIL_TEMPERATURE,
            HOURS,
            NOTES,
        ],
    ),
    (
        "注塑机精度校准 Calibration of injection moulding machine",
        ServiceType.INSPECTION,
        {"product_line": HYDRAULIC_LINE},
        ReportLayout.CERTIFICATE,
        [
            {
                "kind": K.NUMBER,
                "title": "注射压力 Injection pressure",
                "unit": "MPa",
                "min_value": "148",
                "max_value": "152",
            },
            {
                "kind": K.NUMBER,
                "title": "料筒温度偏差 Barrel temperature deviation",
                "unit": "℃",
                "min_value": "-3",
                "max_value": "3",
            },
            {
                "kind": K.NUMBER,
                "title": "射出位置重复精度 Shot position repeatability",
                "unit": "mm",
                "min_value": "0",
                "max_value": "0.3",
            },
            EMERGENCY_STOP,
            HOURS,
        ],
    ),
]

OUT_OF_RANGE_COMMENTS = [
    "冷却水流量不足，已通知客户 Cooling water flow too low; customer told",
    "传感器漂移，已校正 Sensor drift, corrected",
]


def seed_job_templates(*, admin: User, models: dict[str, ProductModel] | None = None) -> list[JobTemplate]:
    """The demo's job templates; a template for a model missing from this demo is left out."""
    made = []
    for name, service_type, scope, layout, steps in TEMPLATES:
        fields = {}
        if "model" in scope:
            model = (models or {}).get(scope["model"]) or ProductModel.objects.filter(code=scope["model"]).first()
            if model is None:
                continue
            fields["product_model"] = model
        else:
            fields["product_line"] = scope.get("product_line", "")
        made.append(
            services.create_job_template(
                actor=admin, name=name, service_type=service_type, report_layout=layout, steps=steps, **fields
            )
        )
    return made


def _number_within(step: JobStep, rng: random.Random) -> Decimal:
    low = step.min_value if step.min_value is not None else Decimal(0)
    high = step.max_value if step.max_value is not None else low + 100
    return Decimal(str(round(rng.uniform(float(low), float(high)), 2)))


def _hours(machine, now: dt.datetime) -> Decimal:
    """A plausible counter: two shifts a day since installation, never below the last reading."""
    installed = machine.installed_on or (timezone.localdate(now) - dt.timedelta(days=700))
    days = max(0, (timezone.localdate(now) - installed).days)
    value = Decimal(days * HOURS_PER_DAY)
    # Counters only go up: between the reading before this moment and the one after it (the
    # history's visits overlap, so one may have been read later already).
    readings = machine.meter_readings.filter(meter=OPERATING_HOURS)
    earlier = readings.filter(read_at__lte=now).order_by("-read_at", "-pk").first()
    later = readings.filter(read_at__gt=now).order_by("read_at", "pk").first()
    if earlier is not None and earlier.value > value:
        value = earlier.value
    if later is not None and later.value < value:
        value = later.value
    return value


def answers_for(order, machine, rng: random.Random, *, out_of_range: float = 0.08) -> list[tuple[JobStep, dict]]:
    """What the demo's engineer answers on site: every required step, optional ones left open."""
    now = timezone.now()
    answers = []
    for step in order.job_steps.order_by("position"):
        if not step.required:
            continue
        answer: dict = {}
        if step.kind == K.INSTRUCTION:
            answer = {"value": "done"}
        elif step.kind == K.YES_NO:
            answer = {"value": "yes" if rng.random() > 0.03 else "no", "comment": ""}
            if answer["value"] == "no":
                answer["comment"] = "已现场调整 Adjusted on site"
        elif step.kind == K.NUMBER:
            value = _number_within(step, rng)
            if rng.random() < out_of_range and step.max_value is not None:
                span = (step.max_value - (step.min_value or 0)) or Decimal(1)
                answer = {
                    "value": str(step.max_value + abs(span) * Decimal("0.2")),
                    "comment": rng.choice(OUT_OF_RANGE_COMMENTS),
                }
            else:
                answer = {"value": str(value)}
        elif step.kind == K.METER:
            answer = {"value": str(_hours(machine, now))}
        elif step.kind == K.CHOICE:
            choices = step.choices or []
            answer = {"value": choices[1] if len(choices) > 2 and rng.random() < 0.85 else rng.choice(choices)}
        elif step.kind == K.SCAN:
            answer = {"value": machine.serial_number[:64]}
        elif step.kind == K.TEXT:
            answer = {"value": "正常 OK"}
        else:  # a required photo or signature: the demo's templates make them optional
            continue
        answers.append((step, answer))
    return answers


def counts() -> list[tuple[str, int]]:
    return [
        ("job templates", JobTemplate.objects.count()),
        ("orders with job steps", JobStep.objects.values("work_order").distinct().count()),
        ("answered job steps", JobStep.objects.filter(answered_at__isnull=False).count()),
    ]
