"""The demo's customer care, seeded through the services after the year of history:

- a Spring Festival greeting by SMS to the key accounts, run on the festival's day and closed a
  month later with its cost, so its effect (the requests its customers filed in the 30 days after)
  comes from the history;
- a phone call to customers whose warranty ended in the last months, running, with some calls done
  (reached, a lead, no answer) and the rest open in the agent's and the director's "My care tasks".
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import time_machine
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.assets.models import Equipment
from fieldservice.customers.choices import CustomerTier
from fieldservice.maintenance.models.care import CareOutcome, CarePlan, CareTouch
from fieldservice.maintenance.services import care as services

# The first day of the Chinese year (春节), by Gregorian year.
SPRING_FESTIVAL = {
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}
GREETING = (
    "尊敬的{{ contact }}：值此新春佳节，{{ company }}全体员工祝{{ customer }}新年快乐、生产顺利！"
    "设备如需保养或维修，请随时联系我们。"
)
CALL_SCRIPT = (
    "{{ customer }}的设备保修已到期。问候{{ contact }}，了解设备运行情况，介绍年度服务合同和保养套餐；"
    "如有故障当场提交服务请求。"
)


def _last_festival(today: dt.date) -> dt.date:
    past = [day for day in SPRING_FESTIVAL.values() if day <= today - dt.timedelta(days=31)]
    return max(past) if past else today - dt.timedelta(days=300)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def seed(*, rng: random.Random, agent: User, director: User) -> list[CarePlan]:
    today = timezone.localdate()
    festival = _last_festival(today)
    with time_machine.travel(_at(festival - dt.timedelta(days=20), 10), tick=False):
        greeting = services.create_care_plan(
            actor=director,
            name=f"{festival.year} 春节问候（重点客户）",
            occasion="festival",
            occasion_note="春节",
            method="sms",
            target_tiers=[CustomerTier.KEY],
            body=GREETING,
            participants=[agent.pk],
            budget="800.00",
            starts_on=festival,
            ends_on=festival + dt.timedelta(days=30),
        )
        services.activate_care_plan(greeting, actor=director)
    with time_machine.travel(_at(festival, 9), tick=False):
        services.run_care_plan(greeting, actor=None)  # the periodic check, on the day
    with time_machine.travel(_at(festival + dt.timedelta(days=31), 17), tick=False):
        touched = CareTouch.objects.filter(plan=greeting).count()
        services.update_care_plan(greeting, actor=director, actual_cost=str(Decimal("0.05") * touched))
        services.close_care_plan(greeting, actor=director)

    ended = (
        Equipment.objects.filter(
            warranty_ends_on__lt=today, warranty_ends_on__gte=today - dt.timedelta(days=120), customer__is_active=True
        )
        .order_by("warranty_ends_on", "pk")
        .values_list("customer_id", flat=True)
    )
    customers = list(dict.fromkeys(ended))[:12]
    if not customers:
        customers = list(
            Equipment.objects.filter(customer__is_active=True).order_by("pk").values_list("customer_id", flat=True)[:6]
        )
    calls = services.create_care_plan(
        actor=director,
        name="保修到期客户回访",
        occasion="warranty_ending",
        method="call",
        chosen=True,
        customers=list(dict.fromkeys(customers)),
        body=CALL_SCRIPT,
        participants=[agent.pk, director.pk],
        budget="300.00",
        starts_on=today - dt.timedelta(days=3),
        effect_days=60,
    )
    services.activate_care_plan(calls, actor=director)
    services.run_care_plan(calls, actor=director)
    outcomes = [CareOutcome.REACHED, CareOutcome.LEAD, CareOutcome.NO_ANSWER, CareOutcome.REACHED, CareOutcome.REQUEST]
    tasks = list(CareTouch.objects.filter(plan=calls).select_related("assignee").order_by("pk"))
    for touch, outcome in zip(tasks[: max(1, len(tasks) // 2)], outcomes * 3, strict=False):
        note = rng.choice(["设备运行正常", "考虑签年度合同", "下周再联系", ""])
        services.record_care_outcome(touch, actor=touch.assignee, outcome=outcome, note=note)
    return [greeting, calls]


def counts() -> list[tuple[str, int]]:
    return [("care plans", CarePlan.objects.count()), ("care touches", CareTouch.objects.count())]
