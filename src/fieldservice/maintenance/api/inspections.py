"""HTTP API of inspections (under /api/v1/maintenance/).

The status is read-only; it moves by verbs: POST .../send, .../approve, .../decline, .../revise,
.../start, .../report, .../comment, .../confirm, .../close, .../cancel. Findings: POST
.../findings (JSON; the photo goes through the phone page), POST .../findings/{id}/decide. A
customer's user approves, declines, confirms and decides changes here as on the follow link."""

from datetime import date, datetime
from typing import Annotated

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.models import User
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error
from fieldservice.customers.models import Customer, Site
from fieldservice.field.models import JobTemplate
from fieldservice.maintenance.inspection_pdf import render_inspection_pdf
from fieldservice.maintenance.models import Finding, Inspection
from fieldservice.maintenance.selectors import inspections as selectors
from fieldservice.maintenance.services import inspections as services

router = Router(tags=["maintenance"])
IdList = Annotated[list[Id], Field(max_length=services.MAX_MACHINES)]


class FindingOut(Schema):
    id: int
    machine: int = Field(validation_alias="machine_id")
    equipment: int
    severity: str
    title: str
    disposition: str
    action_taken: str
    recommendation: str
    note: str
    photo: int | None = Field(validation_alias="photo_id")
    change_decision: str
    change_decline_reason: str
    repair_order: int | None = Field(validation_alias="repair_order_id")
    recorded_at: datetime

    @staticmethod
    def resolve_equipment(obj) -> int:
        return obj.machine.equipment_id


class InspectionMachineOut(Schema):
    id: int
    equipment: int = Field(validation_alias="equipment_id")
    serial_number: str
    work_order: int | None = Field(validation_alias="work_order_id")
    steps: int
    answered: int
    checked: bool
    certificate_number: str
    certificate_valid_until: date | None
    issues: list[str]

    @staticmethod
    def resolve_serial_number(obj) -> str:
        return obj.equipment.serial_number

    @staticmethod
    def resolve_steps(obj) -> int:
        return len(obj.steps)

    @staticmethod
    def resolve_issues(obj) -> list[str]:
        return [item.title for item in obj.items.all()]


class InspectionOut(Schema):
    id: int
    number: str
    title: str
    customer: int = Field(validation_alias="customer_id")
    site: int = Field(validation_alias="site_id")
    template: int = Field(validation_alias="template_id")
    owner: int = Field(validation_alias="owner_id")
    status: str
    planned_on: date | None
    decided_at: datetime | None
    decided_by_name: str
    decline_reason: str
    report_version: int
    report_sent_at: datetime | None
    customer_comment: str
    confirmed_at: datetime | None
    confirmed_by_name: str
    closed_at: datetime | None
    cancel_reason: str
    created_at: datetime


class InspectionDetailOut(InspectionOut):
    engineers: list[int]
    machines: list[InspectionMachineOut]
    findings: list[FindingOut]
    allowed: list[str]

    @staticmethod
    def resolve_engineers(obj) -> list[int]:
        return list(obj.engineers.values_list("pk", flat=True))

    @staticmethod
    def resolve_machines(obj) -> list:
        return selectors.machines_of(obj)

    @staticmethod
    def resolve_findings(obj) -> list:
        return list(selectors.findings_of(obj))

    @staticmethod
    def resolve_allowed(obj) -> list[str]:
        return services.allowed_verbs(obj)


class InspectionIn(StrictSchema):
    __model__ = Inspection
    site: Id
    equipment: IdList
    template: Id
    owner: Id | None = None
    engineers: IdList = []
    title: str = ""
    planned_on: date | None = None
    note: str = ""
    issue_orders: IdList = []
    issue_requests: IdList = []


class NameIn(StrictSchema):
    __columns__ = {"name": (Inspection, "decided_by_name")}
    name: str


class InspectionDeclineIn(StrictSchema):
    __columns__ = {"name": (Inspection, "decided_by_name"), "reason": (Inspection, "decline_reason")}
    reason: str
    name: str = ""


class CommentIn(StrictSchema):
    __columns__ = {"name": (Inspection, "confirmed_by_name"), "comment": (Inspection, "customer_comment")}
    comment: str
    name: str = ""


class InspectionReasonIn(StrictSchema):
    __columns__ = {"reason": (Inspection, "cancel_reason")}
    reason: str


class InspectionFindingIn(StrictSchema):
    __model__ = Finding
    machine: Id
    severity: str = Field("", max_length=10)
    title: str
    disposition: str = Field("", max_length=20)
    action_taken: str = ""
    recommendation: str = ""
    note: str = ""


class ChangeDecisionIn(StrictSchema):
    __columns__ = {"reason": (Finding, "change_decline_reason"), "name": (Finding, "change_decided_by_name")}
    approve: bool
    reason: str = ""
    name: str = ""


def _detail(request, inspection_id: int) -> Inspection:
    return selectors.get_inspection_for(request.user, inspection_id)


@router.get("/inspections", response=list[InspectionOut])
@paginate(PageNumberPagination, page_size=50)
def list_inspections(request, status: str = "", customer: Id | None = None, owner: Id | None = None, q: str = ""):
    """The inspections the user may see, newest first."""
    rows = selectors.inspections_for(request.user, q[:100], status=status[:20])
    if customer is not None:
        rows = rows.filter(customer_id=customer)
    if owner is not None:
        rows = rows.filter(owner_id=owner)
    return rows


@router.post("/inspections", response={201: InspectionDetailOut})
@idempotent
def create_inspection(request, payload: InspectionIn):
    site = Site.objects.select_related("customer").filter(pk=payload.site).first()
    if site is None:
        raise field_error("site", _("No site with id %(id)s.") % {"id": payload.site}, "does_not_exist")
    template = JobTemplate.objects.filter(pk=payload.template).first()
    if template is None:
        raise field_error("template", _("No job template with id %(id)s.") % {"id": payload.template}, "does_not_exist")
    owner = None
    if payload.owner is not None:
        owner = User.objects.filter(pk=payload.owner).first()
        if owner is None:
            raise field_error("owner", _("No user with id %(id)s.") % {"id": payload.owner}, "does_not_exist")
    engineers = list(User.objects.filter(pk__in=payload.engineers))
    if len(engineers) != len(set(payload.engineers)):
        raise field_error("engineers", _("Unknown engineer."), "does_not_exist")
    customer: Customer = site.customer
    inspection = services.create_inspection(
        actor=request.user,
        customer=customer,
        site=site,
        equipment=payload.equipment,
        template=template,
        owner=owner,
        engineers=engineers,
        title=payload.title,
        planned_on=payload.planned_on,
        note=payload.note,
        issue_orders=payload.issue_orders,
        issue_requests=payload.issue_requests,
    )
    return 201, inspection


@router.get("/inspections/{int:inspection_id}", response=InspectionDetailOut)
def get_inspection(request, inspection_id: Id):
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/send", response=InspectionDetailOut)
def send_inspection(request, inspection_id: Id):
    services.send_inspection(_detail(request, inspection_id), actor=request.user)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/revise", response=InspectionDetailOut)
def revise_inspection(request, inspection_id: Id):
    services.revise_inspection(_detail(request, inspection_id), actor=request.user)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/approve", response=InspectionDetailOut)
def approve_inspection(request, inspection_id: Id, payload: NameIn):
    """A user of the customer's company approves; the machines' work orders open."""
    services.approve_inspection(_detail(request, inspection_id), actor=request.user, name=payload.name)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/decline", response=InspectionDetailOut)
def decline_inspection(request, inspection_id: Id, payload: InspectionDeclineIn):
    services.decline_inspection(
        _detail(request, inspection_id), actor=request.user, reason=payload.reason, name=payload.name
    )
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/start", response=InspectionDetailOut)
def start_inspection(request, inspection_id: Id):
    services.start_inspection(_detail(request, inspection_id), actor=request.user)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/report", response=InspectionDetailOut)
def send_report(request, inspection_id: Id):
    services.send_report(_detail(request, inspection_id), actor=request.user)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/comment", response=InspectionDetailOut)
def comment_on_report(request, inspection_id: Id, payload: CommentIn):
    services.comment_on_report(
        _detail(request, inspection_id), actor=request.user, comment=payload.comment, name=payload.name
    )
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/confirm", response=InspectionDetailOut)
def confirm_report(request, inspection_id: Id, payload: NameIn):
    services.confirm_report(_detail(request, inspection_id), actor=request.user, name=payload.name)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/close", response=InspectionDetailOut)
def close_inspection(request, inspection_id: Id):
    services.close_inspection(_detail(request, inspection_id), actor=request.user)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/cancel", response=InspectionDetailOut)
def cancel_inspection(request, inspection_id: Id, payload: InspectionReasonIn):
    services.cancel_inspection(_detail(request, inspection_id), actor=request.user, reason=payload.reason)
    return _detail(request, inspection_id)


@router.post("/inspections/{int:inspection_id}/findings", response={201: FindingOut})
@idempotent
def record_finding(request, inspection_id: Id, payload: InspectionFindingIn):
    finding = services.record_finding(
        _detail(request, inspection_id),
        actor=request.user,
        machine=payload.machine,
        severity=payload.severity,
        title=payload.title,
        disposition=payload.disposition,
        action_taken=payload.action_taken,
        recommendation=payload.recommendation,
        note=payload.note,
    )
    return 201, finding


@router.post("/inspections/{int:inspection_id}/findings/{int:finding_id}/decide", response=FindingOut)
def decide_change(request, inspection_id: Id, finding_id: Id, payload: ChangeDecisionIn):
    """The customer approves or declines the change a finding proposes."""
    inspection = _detail(request, inspection_id)
    finding = selectors.findings_of(inspection).filter(pk=finding_id).first()
    if finding is None:
        raise Http404
    return services.decide_change(
        finding, approve=payload.approve, reason=payload.reason, name=payload.name, actor=request.user
    )


@router.get("/inspections/{int:inspection_id}/pdf")
def inspection_pdf(request, inspection_id: Id, lang: str = ""):
    """The report (or calibration certificates) in Chinese (lang=zh-hans) or English (lang=en)."""
    inspection = _detail(request, inspection_id)
    response = HttpResponse(render_inspection_pdf(inspection, language=lang or None), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="inspection-{inspection.number}.pdf"'
    return response
