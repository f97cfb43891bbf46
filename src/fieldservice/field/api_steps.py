"""HTTP API of job steps (under /api/v1/): the administrator's templates (/job-templates/), an
order's steps for the engineer's client and the dispatcher (/work-orders/{id}/steps).

403: not allowed; 404: not visible; 409: not possible now (the visit started, not on site); 422:
field errors (an out-of-range value without a comment names `comment`)."""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fieldservice.assets.selectors import product_models_for
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent, strict_form
from fieldservice.core.errors import field_error, require
from fieldservice.field import selectors, services
from fieldservice.field.models import JobStep, JobTemplate, JobTemplateStep
from fieldservice.field.services.steps import may_manage_templates
from fieldservice.workorders.models import FaultCategory
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["job steps"])


class StepIn(StrictSchema):
    __model__ = JobTemplateStep
    kind: str
    title: str
    required: bool = True
    help_text: str = ""
    help_url: str = ""
    unit: str = ""
    min_value: Decimal | str | None = None
    max_value: Decimal | str | None = None
    choices: list[str] = Field(default_factory=list, max_length=30)
    meter: str = ""


class StepPatch(StrictSchema):
    __model__ = JobTemplateStep
    kind: str | None = None
    title: str | None = None
    required: bool | None = None
    help_text: str | None = None
    help_url: str | None = None
    unit: str | None = None
    min_value: Decimal | str | None = None
    max_value: Decimal | str | None = None
    choices: list[str] | None = Field(None, max_length=30)
    meter: str | None = None


class StepOut(Schema):
    id: int
    position: int
    kind: str
    title: str
    required: bool
    help_text: str
    help_url: str
    unit: str
    min_value: Decimal | None
    max_value: Decimal | None
    choices: list[str]
    meter: str


class TemplateIn(StrictSchema):
    __model__ = JobTemplate
    name: str
    service_type: str
    product_model: Id | None = None
    product_line: str = ""
    fault_category: Id | None = None
    report_layout: str = "standard"
    is_active: bool = True
    steps: list[StepIn] = Field(default_factory=list, max_length=100)


class TemplatePatch(StrictSchema):
    __model__ = JobTemplate
    name: str | None = None
    service_type: str | None = None
    product_model: Id | None = None
    product_line: str | None = None
    fault_category: Id | None = None
    report_layout: str | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    service_type: str
    product_model: int | None = Field(validation_alias="product_model_id")
    product_line: str
    fault_category: int | None = Field(validation_alias="fault_category_id")
    report_layout: str
    is_active: bool
    steps: list[StepOut]
    updated_at: datetime

    @staticmethod
    def resolve_steps(obj) -> list:
        return list(obj.steps.order_by("position", "pk"))


class OrderStepOut(StepOut):
    template: int | None = Field(validation_alias="template_id")
    answered: bool
    value_text: str
    value_number: Decimal | None
    value_bool: bool | None
    attachment: int | None = Field(validation_alias="attachment_id")
    out_of_range: bool
    comment: str
    answered_by: int | None = Field(validation_alias="answered_by_id")
    answered_at: datetime | None

    @staticmethod
    def resolve_answered(obj) -> bool:
        return obj.answered_at is not None


class AnswerIn(StrictSchema):
    __model__ = JobStep
    # A string, a number or a boolean: the service checks it against the step's kind.
    value: str | Decimal | bool | None = Field(None)
    comment: str = Field("", max_length=2000)


class OrderTemplateIn(StrictSchema):
    template: Id | None


class MoveIn(StrictSchema):
    direction: str = Field(..., max_length=4)


def _model_values(request, payload, *, partial: bool) -> dict:
    values = payload.dict(exclude_unset=partial)
    values.pop("steps", None)
    if "product_model" in values and values["product_model"] is not None:
        model = product_models_for(request.user).filter(pk=values["product_model"]).first()
        if model is None:
            raise field_error("product_model", _("No product model with this id."), "does_not_exist")
        values["product_model"] = model
    if "fault_category" in values and values["fault_category"] is not None:
        category = FaultCategory.objects.filter(pk=values["fault_category"]).first()
        if category is None:
            raise field_error("fault_category", _("No fault category with this id."), "does_not_exist")
        values["fault_category"] = category
    return values


# Templates ---------------------------------------------------------------------------------------


@router.get("/job-templates", response=list[TemplateOut])
@paginate(PageNumberPagination, page_size=50)
def list_templates(request, q: str = "", service_type: str = ""):
    return selectors.templates_for(request.user, q, service_type=service_type or None).prefetch_related("steps")


@router.post("/job-templates", response={201: TemplateOut})
@idempotent
def create_template(request, payload: TemplateIn):
    require(may_manage_templates(request.user))
    values = _model_values(request, payload, partial=False)
    steps = [step.dict() for step in payload.steps]
    return 201, services.create_job_template(actor=request.user, steps=steps, **values)


@router.get("/job-templates/{int:template_id}", response=TemplateOut)
def get_template(request, template_id: Id):
    return selectors.get_template_for(request.user, template_id)


@router.patch("/job-templates/{int:template_id}", response=TemplateOut)
def update_template(request, template_id: Id, payload: TemplatePatch):
    template = selectors.get_template_for(request.user, template_id)
    return services.update_job_template(template, actor=request.user, **_model_values(request, payload, partial=True))


@router.post("/job-templates/{int:template_id}/steps", response={201: StepOut})
@idempotent
def add_template_step(request, template_id: Id, payload: StepIn):
    template = selectors.get_template_for(request.user, template_id)
    return 201, services.add_template_step(template, actor=request.user, **payload.dict())


@router.patch("/job-templates/steps/{int:step_id}", response=StepOut)
def update_template_step(request, step_id: Id, payload: StepPatch):
    step = selectors.get_template_step_for(request.user, step_id)
    return services.update_template_step(step, actor=request.user, **payload.dict(exclude_unset=True))


@router.delete("/job-templates/steps/{int:step_id}", response={204: None})
def remove_template_step(request, step_id: Id):
    step = selectors.get_template_step_for(request.user, step_id)
    services.remove_template_step(step, actor=request.user)
    return 204, None


@router.post("/job-templates/steps/{int:step_id}/move", response=StepOut)
def move_template_step(request, step_id: Id, payload: MoveIn):
    step = selectors.get_template_step_for(request.user, step_id)
    return services.move_template_step(step, actor=request.user, direction=payload.direction)


# An order's steps ---------------------------------------------------------------------------------


def _order(request, work_order_id: Id):
    return get_work_order_for(request.user, work_order_id)


@router.get("/work-orders/{int:work_order_id}/steps", response=list[OrderStepOut])
def list_order_steps(request, work_order_id: Id):
    """The order's job steps and their answers, in order."""
    return list(selectors.steps_of(_order(request, work_order_id)))


@router.post("/work-orders/{int:work_order_id}/steps/{int:step_id}/answer", response=OrderStepOut)
def answer_step(request, work_order_id: Id, step_id: Id, payload: AnswerIn):
    """Answer one step (the engineer on the order, on site). Answering again overwrites the answer."""
    order = _order(request, work_order_id)
    step = selectors.get_step_of(order, step_id)
    value = payload.value
    if isinstance(value, Decimal):
        value = str(value)
    return services.answer_step(step, actor=request.user, value=value, comment=payload.comment)


@router.post("/work-orders/{int:work_order_id}/steps/{int:step_id}/answer-file", response=OrderStepOut)
@strict_form
def answer_step_file(
    request,
    work_order_id: Id,
    step_id: Id,
    file: File[UploadedFile],
    comment: str = Form("", max_length=2000),
):
    """Answer a photo or signature step with an image (multipart)."""
    order = _order(request, work_order_id)
    step = selectors.get_step_of(order, step_id)
    return services.answer_step(step, actor=request.user, comment=comment, file=file)


@router.post("/work-orders/{int:work_order_id}/steps", response={201: OrderStepOut})
@idempotent
def add_order_step(request, work_order_id: Id, payload: StepIn):
    """The dispatcher adds a step before the visit (409 `visit_started` once the engineer checked in)."""
    order = _order(request, work_order_id)
    return 201, services.add_order_step(order, actor=request.user, **payload.dict())


@router.delete("/work-orders/{int:work_order_id}/steps/{int:step_id}", response={204: None})
def remove_order_step(request, work_order_id: Id, step_id: Id):
    order = _order(request, work_order_id)
    services.remove_order_step(selectors.get_step_of(order, step_id), actor=request.user)
    return 204, None


@router.post("/work-orders/{int:work_order_id}/steps/{int:step_id}/move", response=OrderStepOut)
def move_order_step(request, work_order_id: Id, step_id: Id, payload: MoveIn):
    order = _order(request, work_order_id)
    return services.move_order_step(
        selectors.get_step_of(order, step_id), actor=request.user, direction=payload.direction
    )


@router.post("/work-orders/{int:work_order_id}/steps/template", response=list[OrderStepOut])
def set_order_template(request, work_order_id: Id, payload: OrderTemplateIn):
    """Replace the order's steps with those of an active template (null: no steps)."""
    order = _order(request, work_order_id)
    template = None
    if payload.template is not None:
        template = selectors.active_templates_for_order(order).filter(pk=payload.template).first()
        if template is None:
            raise field_error("template", _("No active template of this service type with this id."), "does_not_exist")
    services.set_order_template(order, actor=request.user, template=template)
    return list(selectors.steps_of(order))
