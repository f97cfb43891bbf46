"""Standard job steps (标准作业): the administrator's templates, the steps an order gets from them,
the dispatcher's changes before the visit, and the engineer's answers on site.

A template's steps are copied onto the order when it is created (`attach_job_steps`, set-based:
a maintenance run creates tens of thousands of orders at once), so a template edited later never
changes the steps of an order already made from it. Each answer is saved as it is given
(`answer_step`), so a phone on a poor connection loses at most the step on screen; the visit
cannot be completed while a required step is open (`visit.complete_visit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import OPERATING_HOURS, MeterSource
from fieldservice.assets.models import ProductModel
from fieldservice.assets.services import record_meter_reading
from fieldservice.core.choices import ServiceType
from fieldservice.core.db import any_of, insert_rows
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.uploads import check_image
from fieldservice.field.choices import FieldAction, ReportLayout, StepKind
from fieldservice.field.models import JobStep, JobTemplate, JobTemplateStep
from fieldservice.field.services.visit import _engineer_on, _lock_on_site, _signature_format
from fieldservice.workorders.choices import AttachmentKind, WorkOrderStatus
from fieldservice.workorders.models import FaultCategory, WorkOrder
from fieldservice.workorders.services.intake import PHOTO_LIMIT, attach_file
from fieldservice.workorders.services.log import log_event

K = StepKind
RANGED_KINDS = (K.NUMBER, K.METER)
SCAN_LIMIT = 64
ANSWER_LIMIT = 5000
COMMENT_LIMIT = 2000
CHOICE_LIMIT = 100
MAX_CHOICES = 30
MAX_STEPS = 100
NUMBER_LIMIT = Decimal("1e10")  # what max_digits=14, decimal_places=4 holds
QUANTUM = Decimal("0.0001")
TEMPLATE_FIELDS = (
    "name",
    "service_type",
    "product_model",
    "product_line",
    "fault_category",
    "report_layout",
    "is_active",
)
STEP_FIELDS = (
    "kind",
    "title",
    "help_text",
    "help_url",
    "required",
    "unit",
    "min_value",
    "max_value",
    "choices",
    "meter",
)
# An order's steps may be changed until the engineer is on site; after that they are his record.
EDITABLE_STATUSES = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.DISPATCHED,
    WorkOrderStatus.ACCEPTED,
    WorkOrderStatus.TRAVELLING,
    WorkOrderStatus.ON_HOLD,
)
ANSWER_FIELDS = [
    "value_text",
    "value_number",
    "value_bool",
    "attachment",
    "out_of_range",
    "comment",
    "answered_by",
    "answered_at",
]


def may_manage_templates(actor: User) -> bool:
    return can(actor, Capability.MANAGE_JOB_TEMPLATES)


def may_edit_order_steps(actor: User) -> bool:
    return can(actor, Capability.MANAGE_WORK_ORDERS)


# Parsing -----------------------------------------------------------------------------------------


def _raise(errors: dict[str, ValidationError]) -> None:
    if errors:
        raise ValidationError(errors)


def _text(value, field: str, errors: dict, *, limit: int, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if "\x00" in text:
        errors[field] = ValidationError(_("Enter text without control characters."), code="invalid")
    elif required and not text:
        errors[field] = ValidationError(_("This field is required."), code="required")
    elif len(text) > limit:
        errors[field] = ValidationError(_("At most %(n)d characters.") % {"n": limit}, code="max_length")
    return text


def _number(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, TypeError, ValueError):
        raise field_error(field, _("Enter a number."), "invalid") from None
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise field_error(field, _("Enter a number."), "invalid")
    return number.quantize(QUANTUM)


def plain_number(value: Decimal) -> str:
    """A Decimal as people write it: 30, 13.5 (never 3E+1 or 30.0000)."""
    return format(value.normalize(), "f")


def _optional_number(value, field: str, errors: dict) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return _number(value, field)
    except ValidationError as error:
        errors.update(error.error_dict)
        return None


def _choices(value) -> list[str]:
    """A list of strings, or one string with a choice per line."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        raise field_error("choices", _("Give the choices as a list."), "invalid")
    return [str(item).strip() for item in value if str(item).strip()]


def _help_url(value, errors: dict) -> str:
    url = _text(value, "help_url", errors, limit=500)
    if url and "help_url" not in errors:
        parts = urlsplit(url)
        if not (url.startswith("/") and not url.startswith("//")) and not (
            parts.scheme in ("http", "https") and parts.netloc
        ):
            errors["help_url"] = ValidationError(
                _("Enter a web address (https://…) or a path on this site (/knowledge/…)."), code="invalid"
            )
    return url


def clean_step(data: dict) -> dict:
    """What one step asks, checked: each wrong value is an error naming its field."""
    errors: dict[str, ValidationError] = {}
    kind = data.get("kind")
    if kind not in K.values:
        errors["kind"] = ValidationError(_("Choose a kind of step."), code="invalid_choice")
    values = {
        "kind": kind,
        "title": _text(data.get("title"), "title", errors, limit=300, required=True),
        "help_text": _text(data.get("help_text"), "help_text", errors, limit=ANSWER_LIMIT),
        "help_url": _help_url(data.get("help_url"), errors),
        "required": bool(data.get("required", True)),
        "unit": _text(data.get("unit"), "unit", errors, limit=20),
        "min_value": _optional_number(data.get("min_value"), "min_value", errors),
        "max_value": _optional_number(data.get("max_value"), "max_value", errors),
        "meter": _text(data.get("meter"), "meter", errors, limit=40),
        "choices": [],
    }
    try:
        values["choices"] = _choices(data.get("choices"))
    except ValidationError as error:
        errors.update(error.error_dict)
    ranged = kind in RANGED_KINDS
    if not ranged:
        for name in ("min_value", "max_value"):
            if values[name] is not None and name not in errors:
                errors[name] = ValidationError(
                    _("An allowed range applies only to number and meter reading steps."), code="not_ranged"
                )
        if values["unit"] and "unit" not in errors:
            errors["unit"] = ValidationError(
                _("A unit applies only to number and meter reading steps."), code="not_ranged"
            )
    low, high = values["min_value"], values["max_value"]
    if ranged and low is not None and high is not None and low > high and "min_value" not in errors:
        errors["min_value"] = ValidationError(
            _("The lowest allowed value is above the highest (%(high)s).") % {"high": plain_number(high)},
            code="min_above_max",
        )
    choices = values["choices"]
    if kind == K.CHOICE and "choices" not in errors:
        if len(set(choices)) < 2:
            errors["choices"] = ValidationError(_("A choice step needs at least two choices."), code="too_few")
        elif len(set(choices)) != len(choices):
            errors["choices"] = ValidationError(_("Each choice must be different."), code="duplicate")
        elif len(choices) > MAX_CHOICES:
            errors["choices"] = ValidationError(_("At most %(n)d choices.") % {"n": MAX_CHOICES}, code="too_many")
        elif any(len(choice) > CHOICE_LIMIT for choice in choices):
            errors["choices"] = ValidationError(
                _("Each choice may have at most %(n)d characters.") % {"n": CHOICE_LIMIT}, code="max_length"
            )
    elif choices and "choices" not in errors:
        errors["choices"] = ValidationError(_("Only a choice step has choices."), code="not_choice")
    if values["meter"] and kind != K.METER and "meter" not in errors:
        errors["meter"] = ValidationError(_("Only a meter reading step names a meter."), code="not_meter")
    _raise(errors)
    return values


def _clean_template(data: dict) -> dict:
    errors: dict[str, ValidationError] = {}
    values = {
        "name": _text(data.get("name"), "name", errors, limit=200, required=True),
        "service_type": data.get("service_type"),
        "product_model": data.get("product_model"),
        "product_line": _text(data.get("product_line"), "product_line", errors, limit=100),
        "fault_category": data.get("fault_category"),
        "report_layout": data.get("report_layout") or ReportLayout.STANDARD,
        "is_active": bool(data.get("is_active", True)),
    }
    if values["service_type"] not in ServiceType.values or values["service_type"] == ServiceType.CONSULTATION:
        errors["service_type"] = ValidationError(_("Choose the service type of a visit."), code="invalid_choice")
    if values["product_model"] is not None and not isinstance(values["product_model"], ProductModel):
        errors["product_model"] = ValidationError(_("Choose a product model."), code="invalid_choice")
    if values["product_model"] is not None and values["product_line"] and "product_line" not in errors:
        errors["product_line"] = ValidationError(
            _("Choose a product model or a product line, not both."), code="model_and_line"
        )
    if values["fault_category"] is not None and not isinstance(values["fault_category"], FaultCategory):
        errors["fault_category"] = ValidationError(_("Choose a fault category."), code="invalid_choice")
    if values["report_layout"] not in ReportLayout.values:
        errors["report_layout"] = ValidationError(_("Choose a report layout."), code="invalid_choice")
    _raise(errors)
    return values


# Templates ---------------------------------------------------------------------------------------------


@transaction.atomic
def create_job_template(*, actor: User, steps: list[dict] | None = None, **fields) -> JobTemplate:
    """A new template, with its steps in the order given (each step as `add_template_step` takes it)."""
    require(may_manage_templates(actor))
    values = _clean_template(fields)
    template = JobTemplate.objects.create(**values)
    record_created(template, actor=actor, fields=TEMPLATE_FIELDS)
    for step in steps or []:
        add_template_step(template, actor=actor, **step)
    return template


@transaction.atomic
def update_job_template(template: JobTemplate, *, actor: User, **fields) -> JobTemplate:
    require(may_manage_templates(actor))
    current = JobTemplate.objects.select_for_update().get(pk=template.pk)
    values = _clean_template({**{name: getattr(current, name) for name in TEMPLATE_FIELDS}, **fields})
    before = snapshot(current, TEMPLATE_FIELDS)
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    record_updated(current, actor=actor, before=before)
    return current


def _template_locked(template: JobTemplate) -> JobTemplate:
    return JobTemplate.objects.select_for_update().get(pk=template.pk)


@transaction.atomic
def add_template_step(template: JobTemplate, *, actor: User, **fields) -> JobTemplateStep:
    """A step at the end of the template."""
    require(may_manage_templates(actor))
    template = _template_locked(template)
    values = clean_step(fields)
    last = template.steps.aggregate(last=Max("position"))["last"] or 0
    if template.steps.count() >= MAX_STEPS:
        raise DomainError("too_many_steps", _("A template has at most %(n)d steps.") % {"n": MAX_STEPS})
    step = JobTemplateStep.objects.create(template=template, position=last + 1, **values)
    record_event(template, actor=actor, action="step_added", note=f"{step.position}. {step.title}")
    return step


@transaction.atomic
def update_template_step(step: JobTemplateStep, *, actor: User, **fields) -> JobTemplateStep:
    require(may_manage_templates(actor))
    _template_locked(step.template)
    current = JobTemplateStep.objects.get(pk=step.pk)
    values = clean_step({**{name: getattr(current, name) for name in STEP_FIELDS}, **fields})
    before = snapshot(current, STEP_FIELDS)
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    changes = {k: [before[k], v] for k, v in snapshot(current, STEP_FIELDS).items() if before[k] != v}
    if changes:
        record_event(current.template, actor=actor, action="step_changed", changes=changes, note=current.title)
    return current


@transaction.atomic
def remove_template_step(step: JobTemplateStep, *, actor: User) -> None:
    require(may_manage_templates(actor))
    template = _template_locked(step.template)
    if not JobTemplateStep.objects.filter(pk=step.pk, template=template).exists():
        raise DomainError("already_removed", _("This step was already removed."))
    JobTemplateStep.objects.filter(pk=step.pk).delete()
    record_event(template, actor=actor, action="step_removed", note=f"{step.position}. {step.title}")


def _swap(model, queryset, step, direction: str):
    """Swap a step with its neighbour above or below (positions may have gaps after removals)."""
    if direction not in ("up", "down"):
        raise field_error("direction", _("Move a step up or down."), "invalid_choice")
    if direction == "up":
        other = queryset.filter(position__lt=step.position).order_by("-position").first()
    else:
        other = queryset.filter(position__gt=step.position).order_by("position").first()
    if other is None:
        raise DomainError(
            "cannot_move",
            _("This step is already the first.") if direction == "up" else _("This step is already the last."),
        )
    mine, theirs = step.position, other.position
    # Through a free position: (owner, position) is unique at every statement.
    model.objects.filter(pk=step.pk).update(position=0)
    model.objects.filter(pk=other.pk).update(position=mine)
    model.objects.filter(pk=step.pk).update(position=theirs)
    step.position = theirs
    return step


@transaction.atomic
def move_template_step(step: JobTemplateStep, *, actor: User, direction: str) -> JobTemplateStep:
    require(may_manage_templates(actor))
    template = _template_locked(step.template)
    step = JobTemplateStep.objects.get(pk=step.pk, template=template)
    return _swap(JobTemplateStep, template.steps.all(), step, direction)


# Which template an order gets ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What decides an order's template, read in one query for a batch."""

    service_type: str
    model_id: int | None
    line: str
    fault_id: int | None
    fault_parent_id: int | None


def _rank(template: JobTemplate, facts: _Facts) -> tuple[int, int] | None:
    """How specific a match `template` is for an order (higher wins), or None if it does not match."""
    if template.service_type != facts.service_type:
        return None
    if template.product_model_id is not None:
        if template.product_model_id != facts.model_id:
            return None
        product = 2
    elif template.product_line:
        if template.product_line != facts.line:
            return None
        product = 1
    else:
        product = 0
    if template.fault_category_id is None:
        fault = 0
    elif template.fault_category_id == facts.fault_id:
        fault = 2
    elif facts.fault_parent_id is not None and template.fault_category_id == facts.fault_parent_id:
        fault = 1
    else:
        return None
    return product, fault


def _best(templates: list[JobTemplate], facts: _Facts) -> JobTemplate | None:
    best, best_rank = None, None
    for template in templates:  # ordered by pk: of two equally specific templates, the older wins
        rank = _rank(template, facts)
        if rank is not None and (best_rank is None or rank > best_rank):
            best, best_rank = template, rank
    return best


def _facts_of(order_ids) -> dict[int, _Facts]:
    rows = WorkOrder.objects.filter(pk__in=any_of(order_ids)).values_list(
        "pk",
        "service_type",
        "equipment__product_model_id",
        "equipment__product_model__product_line",
        "fault_category_id",
        "fault_category__parent_id",
    )
    return {pk: _Facts(st, model, line or "", fault, parent) for pk, st, model, line, fault, parent in rows}


def _active_templates(service_types=None) -> list[JobTemplate]:
    queryset = JobTemplate.objects.filter(is_active=True).order_by("pk")
    if service_types is not None:
        queryset = queryset.filter(service_type__in=list(service_types))
    return list(queryset)


def template_for(order: WorkOrder) -> JobTemplate | None:
    """The active template an order would get now (the precedence of `attach_job_steps`)."""
    facts = _facts_of([order.pk]).get(order.pk)
    if facts is None:
        return None
    return _best(_active_templates([facts.service_type]), facts)


def _step_rows(template_steps: list, order_id: int, template_id: int | None) -> list[dict]:
    return [
        {
            "work_order_id": order_id,
            "template_id": template_id,
            "position": step.position,
            **{name: getattr(step, name) for name in STEP_FIELDS},
        }
        for step in template_steps
    ]


CHUNK = 5000


def attach_job_steps(orders: list[WorkOrder], template: JobTemplate | None = None) -> int:
    """Give every order in `orders` that has no steps yet the steps of a template; returns how
    many orders got steps. Runs in the caller's transaction (the order's creation).

    With `template`, every order gets its steps (a maintenance plan, a campaign or an inspection
    names its template), in place of the steps it was given when created unless one is answered.
    Without, each order gets the most specific active template of its service type:

    1. the product: a template for the order's machine's model beats one for the model's product
       line, which beats one for any product (a template for another model or line never applies);
    2. then the fault: a template for the order's fault category beats one for its parent
       category, which beats one for any fault (a template for another fault never applies);
    3. of two equally specific templates, the older (lower id) wins.

    An order without a matching template gets no steps. Set-based: per 5,000 orders, one query for
    the orders that already have steps, one for what decides their template, one INSERT of the
    steps; the templates and their steps are read once."""
    ids = list(dict.fromkeys(order.pk for order in orders if order.pk is not None))
    if not ids:
        return 0
    if template is not None:
        templates = [template]
    else:
        # No active template, nothing to look up.
        templates = _active_templates()
        if not templates:
            return 0
    steps_of: dict[int, list] = {}
    attached = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        chunk_any = any_of(chunk)
        if template is not None:
            # A named template (the plan's, the campaign's, the inspection's) replaces the steps the
            # order was given when it was created, as long as nobody has answered one of them.
            answered = JobStep.objects.filter(work_order_id__in=chunk_any, answered_at__isnull=False)
            JobStep.objects.filter(work_order_id__in=chunk_any).exclude(
                work_order_id__in=answered.values("work_order_id")
            ).delete()
        having = set(
            JobStep.objects.filter(work_order_id__in=chunk_any).values_list("work_order_id", flat=True).distinct()
        )
        wanted = [pk for pk in chunk if pk not in having]
        if not wanted:
            continue
        chosen: dict[int, JobTemplate] = {}
        if template is not None:
            chosen = dict.fromkeys(wanted, template)
        else:
            facts = _facts_of(wanted)
            for pk in wanted:
                best = _best(templates, facts[pk]) if pk in facts else None
                if best is not None:
                    chosen[pk] = best
        missing = {t.pk for t in chosen.values()} - steps_of.keys()
        if missing:
            for step in JobTemplateStep.objects.filter(template_id__in=missing).order_by("template_id", "position"):
                steps_of.setdefault(step.template_id, []).append(step)
            for pk in missing:
                steps_of.setdefault(pk, [])
        rows = []
        for pk, chosen_template in chosen.items():
            template_steps = steps_of[chosen_template.pk]
            if template_steps:
                rows += _step_rows(template_steps, pk, chosen_template.pk)
                attached += 1
        insert_rows(JobStep, rows, on_conflict="(work_order_id, position) DO NOTHING")
    return attached


# The dispatcher's changes before the visit ----------------------------------------------------------


def _order_editable(order: WorkOrder) -> WorkOrder:
    current = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if current.checked_in_at is not None or current.status not in EDITABLE_STATUSES:
        raise DomainError(
            "visit_started",
            _("Work order %(number)s is %(status)s: its steps can only be changed before the engineer checks in.")
            % {"number": current.number, "status": current.get_status_display()},
        )
    return current


@transaction.atomic
def set_order_template(order: WorkOrder, *, actor: User, template: JobTemplate | None) -> int:
    """Replace the order's steps with those of `template` (None: no steps). Returns the number of steps."""
    require(may_edit_order_steps(actor))
    current = _order_editable(order)
    if template is not None and not template.is_active:
        raise field_error("template", _("This template is not active."), "inactive")
    removed = JobStep.objects.filter(work_order=current).delete()[0]
    count = 0
    if template is not None:
        attach_job_steps([current], template)
        count = JobStep.objects.filter(work_order=current).count()
    log_event(
        current,
        actor=actor,
        action=FieldAction.STEPS_CHANGED,
        note=template.name if template is not None else "—",
        payload={"template": template.pk if template else None, "removed": removed, "steps": count},
    )
    return count


@transaction.atomic
def add_order_step(order: WorkOrder, *, actor: User, **fields) -> JobStep:
    require(may_edit_order_steps(actor))
    current = _order_editable(order)
    values = clean_step(fields)
    if current.job_steps.count() >= MAX_STEPS:
        raise DomainError("too_many_steps", _("An order has at most %(n)d steps.") % {"n": MAX_STEPS})
    last = current.job_steps.aggregate(last=Max("position"))["last"] or 0
    step = JobStep.objects.create(work_order=current, position=last + 1, **values)
    log_event(
        current, actor=actor, action=FieldAction.STEPS_CHANGED, note=f"+ {step.title}", payload={"added": step.pk}
    )
    return step


@transaction.atomic
def update_order_step(step: JobStep, *, actor: User, **fields) -> JobStep:
    require(may_edit_order_steps(actor))
    current = _order_editable(step.work_order)
    step = JobStep.objects.get(pk=step.pk, work_order=current)
    values = clean_step({**{name: getattr(step, name) for name in STEP_FIELDS}, **fields})
    for name, value in values.items():
        setattr(step, name, value)
    step.save(update_fields=list(values))
    log_event(
        current, actor=actor, action=FieldAction.STEPS_CHANGED, note=f"~ {step.title}", payload={"changed": step.pk}
    )
    return step


@transaction.atomic
def remove_order_step(step: JobStep, *, actor: User) -> None:
    require(may_edit_order_steps(actor))
    current = _order_editable(step.work_order)
    if not JobStep.objects.filter(pk=step.pk, work_order=current).delete()[0]:
        raise DomainError("already_removed", _("This step was already removed."))
    log_event(
        current, actor=actor, action=FieldAction.STEPS_CHANGED, note=f"− {step.title}", payload={"removed": step.pk}
    )


@transaction.atomic
def move_order_step(step: JobStep, *, actor: User, direction: str) -> JobStep:
    require(may_edit_order_steps(actor))
    current = _order_editable(step.work_order)
    step = JobStep.objects.get(pk=step.pk, work_order=current)
    return _swap(JobStep, current.job_steps.all(), step, direction)


# The engineer's answers -------------------------------------------------------------------------------

YES = {"yes", "true", "1", "on", "y"}
NO = {"no", "false", "0", "off", "n"}


def _yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise field_error("value", _("Answer yes or no."), "required" if not text else "invalid_choice")


def _range_text(step: JobStep) -> str:
    low = plain_number(step.min_value) if step.min_value is not None else None
    high = plain_number(step.max_value) if step.max_value is not None else None
    unit = f" {step.unit}" if step.unit else ""
    if low is not None and high is not None:
        return f"{low}–{high}{unit}"
    if low is not None:
        return f"≥ {low}{unit}"
    return f"≤ {high}{unit}"


def _answer_values(step: JobStep, order: WorkOrder, actor: User, *, value, comment: str, file) -> dict:
    """The answer's columns, checked; stores an uploaded photo or signature (an attachment of the
    order) and a meter reading. Raises a ValidationError naming `value`, `comment` or `file`."""
    errors: dict[str, ValidationError] = {}
    comment = _text(comment, "comment", errors, limit=COMMENT_LIMIT)
    _raise(errors)
    values = {
        "value_text": "",
        "value_number": None,
        "value_bool": None,
        "attachment": None,
        "out_of_range": False,
        "comment": comment,
    }
    kind = step.kind
    if kind == K.INSTRUCTION:
        values["value_bool"] = True  # read and done
    elif kind == K.YES_NO:
        values["value_bool"] = _yes_no(value)
    elif kind in RANGED_KINDS:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise field_error("value", _("Enter a number."), "required")
        number = _number(value, "value")
        low, high = step.min_value, step.max_value
        out = (low is not None and number < low) or (high is not None and number > high)
        if out and not comment:
            raise field_error(
                "comment",
                _("%(value)s is outside the allowed range %(range)s: say why in a comment.")
                % {"value": plain_number(number), "range": _range_text(step)},
                "comment_required",
            )
        values["value_number"] = number
        values["out_of_range"] = bool(out)
    elif kind == K.CHOICE:
        text = str(value if value is not None else "").strip()
        if text not in (step.choices or []):
            raise field_error("value", _("Choose one of the choices."), "invalid_choice" if text else "required")
        values["value_text"] = text
    elif kind == K.TEXT:
        values["value_text"] = _text(value, "value", errors, limit=ANSWER_LIMIT, required=True)
    elif kind == K.SCAN:
        values["value_text"] = _text(value, "value", errors, limit=SCAN_LIMIT, required=True)
    elif kind == K.PHOTO:
        if not file:
            raise field_error("file", _("Take or choose a photo."), "required")
        check_image(file, "file", PHOTO_LIMIT)
        values["attachment"] = attach_file(order, actor=actor, file=file, kind=AttachmentKind.PHOTO)
    elif kind == K.SIGNATURE:
        if not file:
            raise field_error("file", _("Sign in the box first."), "required")
        try:
            image_kind = _signature_format(file)
        except ValidationError as error:
            raise ValidationError({"file": error.error_dict.get("image", error.messages)}) from None
        file.name = f"step-signature.{'png' if image_kind == 'PNG' else 'jpg'}"
        values["attachment"] = attach_file(order, actor=actor, file=file, kind=AttachmentKind.SIGNATURE)
    _raise(errors)
    return values


def _record_meter(step: JobStep, order: WorkOrder, actor: User, number: Decimal, previous: Decimal | None) -> None:
    """A meter step's value is also the machine's reading, so maintenance plans see it. A
    corrected answer records the corrected value (counters only go up: assets refuses less)."""
    if order.equipment_id is None or previous == number:
        return
    record_meter_reading(
        order.equipment,
        actor=actor,
        value=number,
        source=MeterSource.ENGINEER,
        meter=step.meter or OPERATING_HOURS,
        unit=step.unit,
        note=order.number,
    )


def _apply_answers(current: WorkOrder, actor: User, answers: list[tuple[JobStep, dict]]) -> list[JobStep]:
    now = timezone.now()
    by_pk = {
        step.pk: step
        for step in JobStep.objects.select_for_update().filter(pk__in=[s.pk for s, _a in answers], work_order=current)
    }
    done = []
    for given, answer in answers:
        step = by_pk.get(given.pk)
        if step is None:
            raise DomainError("not_found", _("This step is no longer on the work order."))
        previous = step.value_number if step.kind == K.METER and step.answered_at is not None else None
        values = _answer_values(step, current, actor, **answer)
        if step.kind == K.METER:
            _record_meter(step, current, actor, values["value_number"], previous)
        for name, value in values.items():
            setattr(step, name, value)
        step.answered_by = actor
        step.answered_at = now
        done.append(step)
    JobStep.objects.bulk_update(done, ANSWER_FIELDS)
    return done


@transaction.atomic
def answer_step(step: JobStep, *, actor: User, value=None, comment: str = "", file=None) -> JobStep:
    """The engineer's answer to one step, saved as it is given; answering again overwrites it (a
    correction) until the visit is completed. Only an engineer who accepted the order, on site.

    By kind: instruction (acknowledged, `value` ignored), yes/no (`value` yes/no/true/false),
    number and meter reading (`value` a number; outside the step's range it is flagged and needs a
    `comment`, else a 400 naming `comment`; a meter reading is also the machine's), choice (one of
    the step's choices), text, scan (1–64 characters), photo and signature (`file`, an image)."""
    order = step.work_order
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    (done,) = _apply_answers(current, actor, [(step, {"value": value, "comment": comment, "file": file})])
    log_event(
        current,
        actor=actor,
        action=FieldAction.STEP_ANSWERED,
        note=f"{done.position}. {done.title}",
        payload={"step": done.pk, "out_of_range": done.out_of_range},
    )
    return done


@transaction.atomic
def answer_steps(order: WorkOrder, *, actor: User, answers: list[tuple[JobStep, dict]]) -> list[JobStep]:
    """Several answers at once (a phone sending what it queued offline, the demo's history): each
    as `answer_step` takes it ({"value", "comment", "file"}), all or nothing, one service-log line."""
    _engineer_on(order, actor)
    current = _lock_on_site(order)
    normalised = [
        (step, {"value": a.get("value"), "comment": a.get("comment", ""), "file": a.get("file")}) for step, a in answers
    ]
    done = _apply_answers(current, actor, normalised)
    if done:
        log_event(
            current,
            actor=actor,
            action=FieldAction.STEP_ANSWERED,
            note=", ".join(str(step.position) for step in done),
            payload={"steps": [step.pk for step in done], "out_of_range": sum(step.out_of_range for step in done)},
        )
    return done
