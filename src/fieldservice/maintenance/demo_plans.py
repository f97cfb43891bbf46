"""The demo's maintenance plans and their year of visits, through the services.

Plans for a few product models (every 6 months from the installation, with a part from the
model's bill of materials), a couple of machines on their own plan (an inspection every 3 months
from the last visit), one machine counted by its operating hours with a year of monthly meter
readings. The history is the periodic check run month by month in the past (the clock set to each
month with time_machine, as the demo's history does), and each past visit walked by an engineer
(dispatch, accept, travel, check in, work, signature, complete, close); what is due from now on
stays open for the dispatcher.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

import time_machine
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Count
from django.utils import timezone
from PIL import Image, ImageDraw

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus, MeterSource
from fieldservice.assets.models import BomLine, Equipment, ProductModel
from fieldservice.assets.services import record_meter_reading
from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.field import services as field
from fieldservice.maintenance.models import CalendarBase, DueVisit, PlanScope
from fieldservice.maintenance.services.plans import create_plan, generate_due_visits
from fieldservice.planning.inputs import site_in_area
from fieldservice.workorders.choices import ResolutionType, WorkOrderStatus
from fieldservice.workorders.services import lifecycle

# The periodic check's runs in the past, this many days apart (no plan's lead is longer).
STEP_DAYS = 10
# The demo's whole maintenance history stays small: this many machines on model plans at most.
MAX_MODEL_MACHINES = 24


def _signature_png() -> bytes:
    """A small signature-like image: the customer's signature on a demo visit."""
    image = Image.new("RGB", (160, 60), "white")
    ImageDraw.Draw(image).line([(10, 40), (50, 15), (90, 45), (150, 20)], fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _engineers() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            organisation__kind=OrganisationKind.OWN,
            roles__role=Role.ENGINEER,
            engineer_profile__isnull=False,
        )
        .select_related("engineer_profile")
        .prefetch_related("engineer_profile__areas")
        .order_by("pk")
    )


def _covering(engineers: list[User], site) -> list[User]:
    """The engineers whose service areas hold the site: nobody is sent outside his areas."""
    if site is None:
        return []
    return [e for e in engineers if any(site_in_area(site, area) for area in e.engineer_profile.areas.all())]


def _walk(order, engineer: User, agent: User, dispatcher: User, at: dt.datetime, rng: random.Random) -> bool:
    """One past visit, from dispatch to closing, on its due day; False when a rule stops it."""
    machine = order.equipment
    moment = at
    try:
        with time_machine.travel(moment, tick=False):
            assignment = dispatch.dispatch_to_engineer(order, actor=dispatcher, engineer=engineer)
        moment += dt.timedelta(minutes=rng.randint(5, 60))
        with time_machine.travel(moment, tick=False):
            dispatch.accept_assignment(assignment, actor=engineer)
        moment += dt.timedelta(minutes=rng.randint(30, 120))
        with time_machine.travel(moment, tick=False):
            field.start_travel(order, actor=engineer)
        moment += dt.timedelta(minutes=rng.randint(20, 90))
        site = machine.site
        with time_machine.travel(moment, tick=False):
            field.check_in(order, actor=engineer, latitude=site.latitude, longitude=site.longitude, accuracy=15)
        moment += dt.timedelta(minutes=rng.randint(45, 150))
        with time_machine.travel(moment, tick=False):
            field.record_work(
                order,
                actor=engineer,
                resolution_type=ResolutionType.REPAIR,
                fault_cause="定期保养",
                actions_taken="按保养计划完成检查、清洁、润滑和紧固；更换滤芯。",
                labour_hours=Decimal(rng.choice(["1.5", "2", "2.5", "3"])),
            )
            field.capture_signature(
                order,
                actor=engineer,
                signer_name=machine.customer.contacts.values_list("name", flat=True).first() or "客户",
                image_file=ContentFile(_signature_png(), name="signature.png"),
            )
            field.complete_visit(order, actor=engineer)
        moment += dt.timedelta(hours=rng.randint(6, 30))
        with time_machine.travel(moment, tick=False):
            lifecycle.close_work_order(order, actor=agent, note="保养回单已审核")
    except (DomainError, ValidationError):
        return False
    return True


def seed(*, rng: random.Random, admin: User, agent: User, dispatcher: User, days: int = 365) -> dict[str, int]:
    now = timezone.now()
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=days)
    registered = Equipment.objects.filter(status=EquipmentStatus.REGISTERED, site__isnull=False)
    # The models with the fewest machines, up to MAX_MODEL_MACHINES machines in all.
    counted = (
        ProductModel.objects.filter(equipment__in=registered)
        .annotate(n=Count("equipment"))
        .order_by("n", "pk")
        .values_list("pk", "n")
    )
    chosen, machines = [], 0
    for model_id, count in counted:
        if chosen and (machines + count > MAX_MODEL_MACHINES or len(chosen) == 3):
            break
        chosen.append(model_id)
        machines += count
    # A large installed base gets a shorter history (its plan started three months ago), so the
    # demo's time stays small whatever its scale.
    model_start = start if machines <= MAX_MODEL_MACHINES else max(start, today - dt.timedelta(days=90))
    plans = []
    for model in ProductModel.objects.filter(pk__in=chosen).order_by("pk"):
        part = BomLine.objects.filter(product_model=model).select_related("part").order_by("pk").first()
        plans.append(
            create_plan(
                actor=admin,
                name=f"{model.name} 半年保养",
                scope=PlanScope.MODEL,
                product_model=model,
                interval_months=6,
                calendar_base=CalendarBase.INSTALLATION,
                lead_days=14,
                owner=dispatcher,
                starts_on=model_start,
                parts=[(part.part, 1)] if part is not None and part.part.is_active else [],
            )
        )
    others = list(registered.exclude(product_model_id__in=chosen).select_related("product_model").order_by("pk")[:3])
    for machine in others[:2]:
        plans.append(
            create_plan(
                actor=admin,
                name=f"{machine} 季度巡检",
                scope=PlanScope.MACHINE,
                equipment=machine,
                interval_months=3,
                calendar_base=CalendarBase.LAST_VISIT,
                service_type="inspection",
                lead_days=10,
                owner=dispatcher,
                starts_on=start,
            )
        )
    readings = 0
    if len(others) == 3:
        metered = others[2]
        hours = Decimal(rng.randint(2000, 6000))
        for month in range(days // 30, -1, -1):
            read_at = now - dt.timedelta(days=30 * month, hours=rng.randint(1, 8))
            hours += Decimal(rng.randint(180, 300))
            record_meter_reading(metered, actor=admin, value=hours, source=MeterSource.OFFICE, read_at=read_at)
            readings += 1
        plans.append(
            create_plan(
                actor=admin,
                name=f"{metered} 每500运行小时保养",
                scope=PlanScope.MACHINE,
                equipment=metered,
                interval_hours=500,
                lead_days=14,
                owner=dispatcher,
                starts_on=start,
            )
        )
    engineers = _engineers()
    ids = [plan.pk for plan in plans]
    walked = 0
    # The periodic check run every STEP days of the past (the clock set to each run); each visit
    # due before the next run is done on its due day (or soon after the order was opened).
    for days_ago in range(days, 0, -STEP_DAYS):
        day = today - dt.timedelta(days=days_ago)
        with time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(6))), tick=False):
            generate_due_visits(actor=None, today=day, plan_ids=ids)
        due = DueVisit.objects.filter(
            plan_id__in=ids,
            due_on__lt=min(day + dt.timedelta(days=STEP_DAYS), today - dt.timedelta(days=2)),
            work_order__status=WorkOrderStatus.NEW,
        ).select_related("work_order__site", "work_order__equipment__site", "work_order__equipment__customer")
        for visit in due:
            if not engineers:
                break
            order = visit.work_order
            at = timezone.make_aware(dt.datetime.combine(visit.due_on, dt.time(rng.randint(8, 10), rng.randint(0, 59))))
            at = max(at, order.created_at + dt.timedelta(hours=2))
            covering = _covering(engineers, order.site)
            if covering:
                walked += _walk(order, rng.choice(covering), agent, dispatcher, at, rng)
    generate_due_visits(actor=None, plan_ids=ids)  # today's run: the visits coming up stay open
    return {"maintenance plans": len(plans), "meter readings": readings, "maintenance visits done": walked}
