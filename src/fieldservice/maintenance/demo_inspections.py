"""Demo inspections, through the services: one in progress (approved, some machines checked, with
findings of every disposition, one change still awaiting the customer) and one closed with its
confirmed report. `seed` runs after the history; `walkthrough` and `counts` feed the demo's summary."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.core.choices import ServiceType
from fieldservice.customers.models import Site
from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field import demo as field_demo
from fieldservice.field import services as field
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.field.models import JobTemplate, JobTemplateStep
from fieldservice.maintenance.models import Inspection
from fieldservice.maintenance.models.inspections import InspectionStatus
from fieldservice.maintenance.services import inspections as services
from fieldservice.planning.inputs import site_in_area
from fieldservice.workorders.choices import WorkOrderStatus

TEMPLATE_NAME = "注塑机年度健康检查"
STEPS = [
    (StepKind.INSTRUCTION, "断电挂牌，确认安全", None, None, ""),
    (StepKind.YES_NO, "安全门及防护罩完好", None, None, ""),
    (StepKind.NUMBER, "液压油温", Decimal("20"), Decimal("55"), "°C"),
    (StepKind.NUMBER, "系统压力", Decimal("120"), Decimal("160"), "bar"),
    (StepKind.TEXT, "异常声响与渗漏检查", None, None, ""),
]


def health_check_template() -> JobTemplate:
    """The inspection template the field app's templates provide; made here when the demo has none
    (no template service on this branch: the field helper's editor writes them)."""
    template = JobTemplate.objects.filter(service_type=ServiceType.INSPECTION, is_active=True).order_by("pk").first()
    if template is not None and template.steps.exists():
        return template
    template = JobTemplate.objects.create(
        name=TEMPLATE_NAME, service_type=ServiceType.INSPECTION, report_layout=ReportLayout.CHECKLIST
    )
    JobTemplateStep.objects.bulk_create(
        JobTemplateStep(template=template, position=i, kind=kind, title=title, min_value=low, max_value=high, unit=unit)
        for i, (kind, title, low, high, unit) in enumerate(STEPS, start=1)
    )
    return template


def _answer(order, rng: random.Random, engineer: User) -> None:
    """The engineer on site answers the checklist on his phone, through the field services: he
    accepts the order dispatched to him, checks in and answers every step (in range but for one
    hot machine now and then, with his comment)."""
    assignment = Assignment.objects.filter(work_order=order, engineer=engineer, status=AssignmentStatus.OFFERED).first()
    if assignment is not None:
        dispatch.accept_assignment(assignment, actor=engineer)
    order.refresh_from_db()
    if order.status != WorkOrderStatus.ON_SITE:
        site = order.site
        field.check_in(order, actor=engineer, latitude=site.latitude, longitude=site.longitude, accuracy=15)
    answers = field_demo.answers_for(order, order.equipment, rng, out_of_range=0.1)
    field.answer_steps(order, actor=engineer, answers=answers)


def _covers(engineer: User, site: Site) -> bool:
    profile = getattr(engineer, "engineer_profile", None)
    return profile is not None and any(site_in_area(site, area) for area in profile.areas.all())


def _pairs(count: int, preferred: User | None) -> list[tuple[Site, User | None]]:
    """Sites with at least two registered machines, each with an engineer of ours whose service
    areas cover it (the demo's engineer login when he does, so he sees them on his phone)."""
    engineers = list(
        User.objects.filter(is_active=True, roles__role=Role.ENGINEER, organisation__kind=OrganisationKind.OWN)
        .exclude(engineer_profile__availability=Availability.ON_LEAVE)
        .select_related("engineer_profile")
        .order_by("pk")
        .distinct()
    )
    if preferred is not None and preferred in engineers:
        engineers.remove(preferred)
        engineers.insert(0, preferred)
    candidates = (
        Site.objects.filter(is_active=True)
        .annotate(machines=Count("equipment", filter=Q(equipment__status=EquipmentStatus.REGISTERED)))
        .filter(machines__gte=2)
        .select_related("customer")
        .order_by("pk")
    )
    found = []
    for site in candidates.iterator():
        engineer = next((e for e in engineers if _covers(e, site)), None)
        if engineer is not None:
            found.append((site, engineer))
            if len(found) == count:
                break
    # The one left in progress is the demo login's when he has one: he finds it on his phone.
    return sorted(found, key=lambda pair: pair[1] != preferred)


def seed(*, rng: random.Random, dispatcher: User, engineer: User | None = None) -> list[Inspection]:
    template = health_check_template()
    made = []
    for index, (site, worker) in enumerate(_pairs(2, engineer)):
        machines = list(site.equipment.filter(status=EquipmentStatus.REGISTERED).order_by("pk")[:4])
        inspection = services.create_inspection(
            actor=dispatcher,
            customer=site.customer,
            site=site,
            equipment=[m.pk for m in machines],
            template=template,
            owner=dispatcher,
            engineers=[worker],
            title="年度设备巡检" if index == 0 else "季度设备巡检",
            planned_on=timezone.localdate(),
        )
        services.send_inspection(inspection, actor=dispatcher)
        services.approve_inspection(inspection, follow_token=inspection.follow_token, name="王经理")
        lines = list(inspection.machines.select_related("work_order", "equipment"))
        actor = worker
        # The first machine checked: a problem fixed on the spot, a recommendation.
        _answer(lines[0].work_order, rng, actor)
        services.record_finding(
            inspection,
            actor=actor,
            machine=lines[0].pk,
            severity="low",
            title="安全门限位开关松动",
            disposition="fixed",
            action_taken="紧固限位开关并测试联锁",
        )
        services.record_finding(
            inspection,
            actor=actor,
            machine=lines[0].pk,
            severity="medium",
            title="液压油颜色变深",
            disposition="recommendation",
            recommendation="建议三个月内更换液压油及滤芯",
        )
        # The second: a change the customer approves (or is still to), and a repair order.
        _answer(lines[1].work_order, rng, actor)
        change = services.record_finding(
            inspection,
            actor=actor,
            machine=lines[1].pk,
            severity="high",
            title="高压油管外皮老化开裂",
            disposition="change",
            recommendation="更换两根高压油管（需停机 2 小时）",
        )
        services.record_finding(
            inspection,
            actor=actor,
            machine=lines[1].pk,
            severity="critical",
            title="主油泵异响",
            disposition="repair",
            note="振动值偏高，需拆检",
        )
        if index == 1:
            services.decide_change(change, approve=True, follow_token=inspection.follow_token, name="王经理")
            for line in lines[2:]:
                _answer(line.work_order, rng, actor)
            services.send_report(inspection, actor=dispatcher)
            services.confirm_report(inspection, follow_token=inspection.follow_token, name="王经理")
            services.close_inspection(inspection, actor=dispatcher)
        made.append(inspection)
    return made


def walkthrough() -> list[str]:
    found = []
    running = Inspection.objects.filter(status=InspectionStatus.IN_PROGRESS).order_by("pk").first()
    if running:
        found.append(f"inspection in progress (sign in as dispatcher; its engineer on the phone): {running.number}")
    closed = Inspection.objects.filter(status=InspectionStatus.CLOSED).order_by("pk").first()
    if closed:
        found.append(f"closed inspection with its confirmed report: {closed.number}")
    return found


def counts() -> list[tuple[str, int]]:
    return [("inspections", Inspection.objects.count())]
