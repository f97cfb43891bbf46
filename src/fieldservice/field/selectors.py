"""What an engineer sees in the field: their orders, and the visit's parts, photos and signature."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import FittedPart
from fieldservice.assets.selectors import bom_lines_of, fitted_parts_of
from fieldservice.dispatch.assignments.selectors import my_assignments
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.field.models import JobStep, JobTemplate, JobTemplateStep, PartUsage, Signature
from fieldservice.inventory.models import Part
from fieldservice.inventory.selectors import parts_for
from fieldservice.workorders.choices import AttachmentKind, Transition, WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from fieldservice.workorders.selectors import get_work_order_for

S = WorkOrderStatus
# The orders an engineer still works on; completed ones stay on the list for the day they were done.
WORKING_STATUSES = (S.DISPATCHED, S.ACCEPTED, S.TRAVELLING, S.ON_SITE, S.ON_HOLD)
REPORT_STATUSES = (S.COMPLETED, S.CLOSED)


@dataclass
class TodayList:
    offered: list[Assignment] = field(default_factory=list)
    working: list[Assignment] = field(default_factory=list)
    done_today: list[Assignment] = field(default_factory=list)


def today_for(actor: User) -> TodayList:
    """The engineer's offered and accepted orders (everything open is today's or upcoming: orders
    carry no appointment date yet), and what they completed today."""
    assignments = (
        my_assignments(actor)
        .select_related(
            "work_order__customer",
            "work_order__site__contact",
            "work_order__equipment__product_model",
            "work_order__request__contact",
        )
        .order_by("work_order__created_at", "pk")
    )
    result = TodayList()
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    priority_rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    for assignment in assignments:
        order = assignment.work_order
        if assignment.status == AssignmentStatus.OFFERED and order.status in WORKING_STATUSES:
            result.offered.append(assignment)
        elif order.status in WORKING_STATUSES:
            result.working.append(assignment)
        elif order.status in REPORT_STATUSES and order.completed_at and order.completed_at >= start_of_day:
            result.done_today.append(assignment)
    for bucket in (result.offered, result.working):
        bucket.sort(key=lambda a: (priority_rank.get(a.work_order.priority, 9), a.work_order.created_at))
    return result


def get_field_order_for(actor: User, pk: int) -> WorkOrder:
    """One order the user may see (404 otherwise), with what the phone page shows."""
    return get_work_order_for(actor, pk)


def assignment_of(actor: User, order: WorkOrder) -> Assignment | None:
    """The actor's active (offered or accepted) assignment on the order, if any."""
    if actor is None or not getattr(actor, "pk", None):
        return None
    return (
        Assignment.objects.filter(work_order=order, engineer=actor, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .order_by("role", "pk")
        .first()
    )


def engineers_of(order: WorkOrder) -> tuple[list[User], list[User]]:
    """(leads, helpers) who accepted the order: the engineers named on the report."""
    accepted = Assignment.objects.filter(
        work_order=order, status=AssignmentStatus.ACCEPTED, engineer__isnull=False
    ).select_related("engineer")
    leads = [a.engineer for a in accepted if a.role == AssignmentRole.LEAD]
    helpers = [a.engineer for a in accepted if a.role == AssignmentRole.HELPER]
    return leads, helpers


def part_usages_of(order: WorkOrder) -> QuerySet[PartUsage]:
    return order.part_usages.select_related("part", "replaces__part", "recorded_by").order_by("recorded_at", "pk")


def fitted_parts_for_order(order: WorkOrder) -> QuerySet[FittedPart]:
    """The machine's fitted parts an engineer may replace on this order (none without a machine)."""
    if order.equipment_id is None:
        return FittedPart.objects.none()
    return fitted_parts_of(order.equipment)


def bom_parts_for_order(actor: User, order: WorkOrder) -> QuerySet[Part]:
    """The active parts of the BOM of the order's machine: what an engineer most likely fits."""
    if order.equipment_id is None:
        return Part.objects.none()
    bom = bom_lines_of(order.equipment.product_model).values("part_id")
    return parts_for(actor).filter(is_active=True, pk__in=bom).order_by("part_number")


def has_work_record(order: WorkOrder) -> bool:
    return bool(order.resolution_type or order.fault_cause or order.actions_taken or order.labour_hours is not None)


def photos_of(order: WorkOrder) -> QuerySet[Attachment]:
    return order.attachments.filter(kind=AttachmentKind.PHOTO).order_by("created_at", "pk")


def signature_of(order: WorkOrder) -> Signature | None:
    """The latest signature counts: a customer may sign again after a correction."""
    return order.signatures.select_related("attachment").order_by("-captured_at", "-pk").first()


def last_check_in(order: WorkOrder) -> WorkOrderEvent | None:
    return order.events.filter(action=Transition.CHECK_IN).order_by("-at", "-pk").first()


def contact_of(order: WorkOrder):
    """Who to call and where to send the report: the request's contact, else the site's."""
    contact = order.request.contact if order.request_id else None
    if contact is None and order.site_id:
        contact = order.site.contact
    return contact


def report_email_of(order: WorkOrder) -> str:
    contact = contact_of(order)
    if contact is not None and contact.email:
        return contact.email
    return order.request.reporter_email if order.request_id else ""


# Job steps -------------------------------------------------------------------------------------------


def steps_of(order: WorkOrder) -> QuerySet[JobStep]:
    """The order's job steps in their order, with what the phone and the report show of an answer."""
    return order.job_steps.select_related("attachment", "answered_by", "template").order_by("position", "pk")


def open_required_steps(order: WorkOrder) -> QuerySet[JobStep]:
    return order.job_steps.filter(required=True, answered_at__isnull=True).order_by("position", "pk")


def get_step_of(order: WorkOrder, pk: int) -> JobStep:
    """One step of an order the caller already scoped (404 for a step of another order)."""
    step = order.job_steps.filter(pk=pk).select_related("work_order").first()
    if step is None:
        raise Http404
    return step


def templates_for(
    actor: User,
    text: str = "",
    *,
    service_type: str | None = None,
    product_model=None,
    is_active: bool | None = None,
) -> QuerySet[JobTemplate]:
    """The job templates, for those who manage them (nobody else lists them)."""
    if not can(actor, Capability.MANAGE_JOB_TEMPLATES):
        return JobTemplate.objects.none()
    queryset = JobTemplate.objects.select_related("product_model", "fault_category").annotate(step_count=Count("steps"))
    text = (text or "").strip()
    if text:
        queryset = queryset.filter(
            Q(name__icontains=text)
            | Q(product_line__icontains=text)
            | Q(product_model__code__icontains=text)
            | Q(product_model__name__icontains=text)
        )
    if service_type:
        queryset = queryset.filter(service_type=service_type)
    if product_model is not None:
        queryset = queryset.filter(product_model=product_model)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset


def get_template_for(actor: User, pk: int) -> JobTemplate:
    template = templates_for(actor).filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def get_template_step_for(actor: User, pk: int) -> JobTemplateStep:
    step = JobTemplateStep.objects.filter(pk=pk, template__in=templates_for(actor)).select_related("template").first()
    if step is None:
        raise Http404
    return step


def active_templates_for_order(order: WorkOrder) -> QuerySet[JobTemplate]:
    """The active templates of the order's service type: what a dispatcher may switch it to."""
    return (
        JobTemplate.objects.filter(is_active=True, service_type=order.service_type)
        .select_related("product_model")
        .order_by("name", "pk")
    )
