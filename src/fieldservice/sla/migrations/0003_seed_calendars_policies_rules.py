"""The shipped SLA settings: the Chinese working week with the 2026 public holidays (the default
calendar), a 24×7 calendar, policies per customer tier and per contract level, and the escalation
rules of issue 4. Existing rows of the same name or code are left as they are."""

import datetime as dt
import json
from pathlib import Path

from django.db import migrations

CN_CALENDAR = "中国工作日 / China working week"
ALWAYS_CALENDAR = "24×7"
HOLIDAY_FILE = Path(__file__).resolve().parent.parent / "data" / "cn_holidays_2026.json"

# code: (name, calendar, customer tier, default, description,
#        {priority: (response, acceptance, arrival, resolution)} in business minutes)
POLICIES = {
    "standard": (
        "标准 / Standard",
        CN_CALENDAR,
        "standard",
        True,
        "Customers without a contract; business hours.",
        {
            "urgent": (60, 120, 480, 1440),
            "high": (120, 240, 960, 2400),
            "normal": (240, 480, 1440, 4800),
            "low": (480, 960, 2400, 7200),
        },
    ),
    "key": (
        "重点客户 / Key account",
        CN_CALENDAR,
        "key",
        False,
        "Key accounts without a contract; business hours.",
        {
            "urgent": (30, 60, 240, 960),
            "high": (60, 120, 480, 1440),
            "normal": (120, 240, 960, 2400),
            "low": (240, 480, 1440, 4800),
        },
    ),
    "strategic": (
        "战略客户 / Strategic",
        ALWAYS_CALENDAR,
        "strategic",
        False,
        "Strategic customers; around the clock.",
        {
            "urgent": (30, 60, 240, 480),
            "high": (60, 120, 480, 1440),
            "normal": (120, 240, 1440, 2880),
            "low": (240, 480, 2880, 5760),
        },
    ),
    "gold": (
        "金牌合同 / Gold contract",
        ALWAYS_CALENDAR,
        "",
        False,
        "Gold service contracts; around the clock.",
        {
            "urgent": (30, 60, 240, 480),
            "high": (60, 120, 480, 1440),
            "normal": (120, 240, 960, 2880),
            "low": (240, 480, 1440, 4320),
        },
    ),
    "silver": (
        "银牌合同 / Silver contract",
        CN_CALENDAR,
        "",
        False,
        "Silver service contracts; business hours.",
        {
            "urgent": (60, 120, 480, 960),
            "high": (120, 240, 960, 1920),
            "normal": (240, 480, 1440, 2880),
            "low": (480, 960, 2400, 4800),
        },
    ),
    "basic": (
        "基础合同 / Basic contract",
        CN_CALENDAR,
        "",
        False,
        "Basic service contracts; business hours.",
        {
            "urgent": (120, 240, 960, 1920),
            "high": (240, 480, 1440, 2880),
            "normal": (480, 960, 2400, 4800),
            "low": (960, 1440, 4800, 9600),
        },
    ),
}

# name, target, after minutes, percent used, notify, position
RULES = [
    ("响应超时30分钟 / Not dispatched after 30 min", "response", 30, None, "dispatcher", 10),
    ("响应超时60分钟 / Not dispatched after 60 min", "response", 60, None, "team_lead", 20),
    ("到场时限已用80% / Arrival 80 % used", "arrival", None, 80, "assigned_engineer", 30),
    ("任一时限超时 / Any target breached", "", None, 100, "director", 40),
]


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    WorkingPeriod = apps.get_model("sla", "WorkingPeriod")
    Holiday = apps.get_model("sla", "Holiday")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    EscalationRule = apps.get_model("sla", "EscalationRule")

    has_default = BusinessCalendar.objects.filter(is_default=True).exists()
    china, created = BusinessCalendar.objects.get_or_create(
        name=CN_CALENDAR, defaults={"time_zone": "Asia/Shanghai", "is_default": not has_default}
    )
    if created:
        WorkingPeriod.objects.bulk_create(
            WorkingPeriod(calendar=china, weekday=weekday, starts_at=start, ends_at=end)
            for weekday in range(5)
            for start, end in ((dt.time(9), dt.time(12)), (dt.time(13), dt.time(18)))
        )
        entries = json.loads(HOLIDAY_FILE.read_text(encoding="utf-8"))["holidays"]
        Holiday.objects.bulk_create(
            Holiday(calendar=china, date=dt.date.fromisoformat(e["date"]), kind=e["kind"], name=e["name"])
            for e in entries
        )
    always, _created = BusinessCalendar.objects.get_or_create(
        name=ALWAYS_CALENDAR, defaults={"time_zone": "Asia/Shanghai"}
    )
    calendars = {CN_CALENDAR: china, ALWAYS_CALENDAR: always}

    has_default_policy = SlaPolicy.objects.filter(is_default=True).exists()
    taken_tiers = set(SlaPolicy.objects.exclude(customer_tier="").values_list("customer_tier", flat=True))
    for code, (name, calendar, tier, is_default, description, targets) in POLICIES.items():
        if SlaPolicy.objects.filter(code=code).exists():
            continue
        policy = SlaPolicy.objects.create(
            code=code,
            name=name,
            calendar=calendars[calendar],
            customer_tier="" if tier in taken_tiers else tier,
            is_default=is_default and not has_default_policy,
            description=description,
        )
        SlaTarget.objects.bulk_create(
            SlaTarget(
                policy=policy,
                priority=priority,
                response_minutes=response,
                acceptance_minutes=acceptance,
                arrival_minutes=arrival,
                resolution_minutes=resolution,
            )
            for priority, (response, acceptance, arrival, resolution) in targets.items()
        )

    if not EscalationRule.objects.exists():
        EscalationRule.objects.bulk_create(
            EscalationRule(
                name=name,
                target=target,
                after_minutes=after,
                percent_used=percent,
                notify=notify,
                position=position,
            )
            for name, target, after, percent, notify, position in RULES
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_clocks_and_escalation_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
