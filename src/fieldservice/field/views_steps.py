"""Job steps on pages: the administrator's template editor (desk, /job-templates/), the
dispatcher's panel of an order's steps on the work order page, and the engineer's answer to one
step on the phone (htmx: one POST per step, the step's card comes back)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.field import selectors, services
from fieldservice.field.choices import StepKind
from fieldservice.field.forms import JobTemplateForm, OrderTemplateForm, StepForm, TemplateFilterForm, signature_file
from fieldservice.field.services.steps import EDITABLE_STATUSES, may_edit_order_steps, may_manage_templates
from fieldservice.workorders.selectors import get_work_order_for

TEMPLATES = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda t: t.name, link=lambda t: reverse("job_templates:edit", args=[t.pk])),
        Column(gettext_lazy("Service type"), lambda t: t.get_service_type_display()),
        Column(
            gettext_lazy("Product"),
            lambda t: str(t.product_model.code) if t.product_model_id else t.product_line,
            default=gettext_lazy("Any"),
        ),
        Column(gettext_lazy("Fault category"), lambda t: str(t.fault_category or ""), default=gettext_lazy("Any")),
        Column(gettext_lazy("Report layout"), lambda t: t.get_report_layout_display()),
        Column(gettext_lazy("Steps"), lambda t: t.step_count),
        Column(gettext_lazy("Active"), lambda t: t.is_active, cell="core/cells/active.html"),
        Column(gettext_lazy("Updated"), lambda t: t.updated_at, page=False),
    ],
    filter_form=TemplateFilterForm,
    search=gettext_lazy("Name, model or product line"),
    order=("service_type", "name", "pk"),
    empty=gettext_lazy("No job templates yet: orders get no steps to follow."),
    empty_filtered=gettext_lazy("No job template matches this search."),
    export_name="job-templates",
    export_title=gettext_lazy("Job templates"),
)


def _service_values(form: Form) -> dict:
    return dict(form.cleaned_data)


# The template editor ------------------------------------------------------------------------------------


@login_required
def template_list(request):
    require(may_manage_templates(request.user))
    filters = TEMPLATES.filters(request)
    values = filters.filters() if filters is not None else {}
    templates = selectors.templates_for(request.user, request.GET.get("q", ""), **values)
    return TEMPLATES.render(request, "field/template_list.html", templates, filters=filters)


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request):
    require(may_manage_templates(request.user))
    form = JobTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.create_job_template(actor=request.user, **_service_values(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Template “%(name)s” created: add its steps.") % {"name": template.name})
            return redirect("job_templates:edit", pk=template.pk)
    return render(request, "field/template_form.html", {"form": form, "template": None})


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, pk):
    template = selectors.get_template_for(request.user, pk)
    form = JobTemplateForm(request.POST or None, initial=JobTemplateForm.initial_of(template))
    if request.method == "POST" and form.is_valid():
        try:
            template = services.update_job_template(template, actor=request.user, **_service_values(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("job_templates:edit", pk=template.pk)
    return _template_page(request, template, form=form)


def _template_page(request, template, *, form=None, step_form=None, status=200):
    context = {
        "template": template,
        "form": form or JobTemplateForm(initial=JobTemplateForm.initial_of(template)),
        "steps": list(template.steps.order_by("position", "pk")),
        "step_form": step_form or StepForm(initial={"kind": StepKind.YES_NO, "required": True}),
    }
    return render(request, "field/template_form.html", context, status=status)


@login_required
@require_POST
def template_step_add(request, pk):
    template = selectors.get_template_for(request.user, pk)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            step = services.add_template_step(template, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("job_templates:edit", pk=template.pk)
        else:
            messages.success(request, _("Step “%(title)s” added.") % {"title": step.title})
            return redirect(reverse("job_templates:edit", args=[template.pk]) + "#steps")
    return _template_page(request, template, step_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def template_step_edit(request, pk):
    step = selectors.get_template_step_for(request.user, pk)
    form = StepForm(request.POST or None, initial=StepForm.initial_of(step))
    if request.method == "POST" and form.is_valid():
        try:
            step = services.update_template_step(step, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Step “%(title)s” saved.") % {"title": step.title})
            return redirect(reverse("job_templates:edit", args=[step.template_id]) + "#steps")
    return render(request, "field/template_step_form.html", {"form": form, "step": step, "template": step.template})


@login_required
@require_POST
def template_step_remove(request, pk):
    step = selectors.get_template_step_for(request.user, pk)
    try:
        services.remove_template_step(step, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Step “%(title)s” removed.") % {"title": step.title})
    return redirect(reverse("job_templates:edit", args=[step.template_id]) + "#steps")


@login_required
@require_POST
def template_step_move(request, pk, direction):
    step = selectors.get_template_step_for(request.user, pk)
    try:
        services.move_template_step(step, actor=request.user, direction=direction)
    except (DomainError, ValidationError) as error:
        messages.error(request, getattr(error, "message", None) or " ".join(error.messages))
    return redirect(reverse("job_templates:edit", args=[step.template_id]) + "#steps")


# The dispatcher's panel of an order's steps ------------------------------------------------------------


def _steps_editable(order) -> bool:
    return order.checked_in_at is None and order.status in EDITABLE_STATUSES


def order_steps_panel(request, order) -> str:
    """The order's job steps on the desk's work order page: answers for those who read the order;
    changes for a dispatcher until the engineer checks in."""
    user = request.user
    if not user.is_authenticated or not can(user, Capability.VIEW_WORK_ORDERS):
        return ""
    steps = list(selectors.steps_of(order))
    may_edit = may_edit_order_steps(user) and _steps_editable(order)
    if not steps and not may_edit:
        return ""
    context = {
        "order": order,
        "steps": steps,
        "may_edit": may_edit,
        "template": next((step.template for step in steps if step.template_id), None),
        "template_form": OrderTemplateForm(templates=selectors.active_templates_for_order(order)) if may_edit else None,
        "step_form": StepForm(initial={"kind": StepKind.YES_NO, "required": True}) if may_edit else None,
    }
    return render_to_string("field/_order_steps.html", context, request=request)


def _back(order):
    return redirect(reverse("workorders:order_detail", args=[order.pk]) + "#job-steps")


def _order_for_edit(request, pk):
    order = get_work_order_for(request.user, pk)
    require(may_edit_order_steps(request.user))
    return order


def _refused(request, order, error: DomainError):
    messages.error(request, error.message)
    return _back(order)


@login_required
@require_POST
def order_template_set(request, pk):
    order = _order_for_edit(request, pk)
    form = OrderTemplateForm(request.POST, templates=selectors.active_templates_for_order(order))
    if not form.is_valid():
        messages.error(request, _("Choose one of the active templates of this service type."))
        return _back(order)
    try:
        count = services.set_order_template(order, actor=request.user, template=form.cleaned_data["template"])
    except DomainError as error:
        return _refused(request, order, error)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The order now has %(n)d job steps.") % {"n": count})
    return _back(order)


@login_required
@require_POST
def order_step_add(request, pk):
    order = _order_for_edit(request, pk)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            step = services.add_order_step(order, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            return _refused(request, order, error)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                label = form.fields[field].label if field in form.fields else field
                messages.error(request, f"{label}: {' '.join(errors)}")
        else:
            messages.success(request, _("Step “%(title)s” added.") % {"title": step.title})
    else:
        messages.error(request, _("Choose the kind of step."))
    return _back(order)


@login_required
@require_POST
def order_step_remove(request, pk, step_pk):
    order = _order_for_edit(request, pk)
    step = selectors.get_step_of(order, step_pk)
    try:
        services.remove_order_step(step, actor=request.user)
    except DomainError as error:
        return _refused(request, order, error)
    messages.success(request, _("Step “%(title)s” removed.") % {"title": step.title})
    return _back(order)


@login_required
@require_POST
def order_step_move(request, pk, step_pk, direction):
    order = _order_for_edit(request, pk)
    step = selectors.get_step_of(order, step_pk)
    try:
        services.move_order_step(step, actor=request.user, direction=direction)
    except DomainError as error:
        return _refused(request, order, error)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return _back(order)


# The engineer's answer ------------------------------------------------------------------------------------


def step_card(request, order, step, *, errors=None, given=None, may_answer=True) -> str:
    return render_to_string(
        "field/_step.html",
        {"order": order, "step": step, "errors": errors or {}, "given": given or {}, "may_answer": may_answer},
        request=request,
    )


@login_required
@require_POST
def answer(request, pk, step_pk):
    """One step's answer (htmx: the step's card comes back, with the error next to its field and a
    400 when the answer is refused, 409 when the order is not on site)."""
    require(can(request.user, Capability.WORK_IN_FIELD))
    order = selectors.get_field_order_for(request.user, pk)
    step = selectors.get_step_of(order, step_pk)
    given = {"value": request.POST.get("value", ""), "comment": request.POST.get("comment", "")}
    status, errors = 200, {}
    try:
        file = request.FILES.get("file")
        if step.kind == StepKind.SIGNATURE and file is None:
            file = signature_file(request.POST.get("signature", ""))
        step = services.answer_step(step, actor=request.user, value=given["value"], comment=given["comment"], file=file)
    except ValidationError as error:
        status = 400
        if hasattr(error, "error_dict"):
            errors = {field: [m for e in errs for m in e.messages] for field, errs in error.error_dict.items()}
        else:
            errors = {"file" if step.kind == StepKind.SIGNATURE else "value": error.messages}
    except DomainError as error:
        status = 409
        errors = {"refused": [error.message]}
    if not request.htmx:
        if errors:
            for messages_of in errors.values():
                for message in messages_of:
                    messages.error(request, message)
        return redirect(reverse("field:order", args=[order.pk]) + f"#step-{step.pk}")
    if status == 200:
        step.refresh_from_db()
    html = step_card(request, order, step, errors=errors, given=given if errors else {})
    return HttpResponse(html, status=status)
