"""The customer's follow link of an inspection, at /r/i/<token>/: approve or decline the
inspection, decide on the changes its findings propose, download and confirm (or comment on) the
report. No login: the inspection's own follow token is the key."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.maintenance.forms.inspections import CommentForm, DeclineForm, NameForm
from fieldservice.maintenance.models.inspections import ChangeDecision, InspectionStatus
from fieldservice.maintenance.selectors import inspections as selectors
from fieldservice.maintenance.services import inspections as services
from fieldservice.maintenance.views.inspections import pdf_response
from fieldservice.portal.views import private


def _unknown(request):
    return render(request, "portal/unknown.html", status=404)


def _page(request, inspection, forms=None, status=200):
    forms = forms or {}
    machines = selectors.machines_of(inspection)
    pending = [f for line in machines for f in line.findings.all() if f.change_decision == ChangeDecision.PENDING]
    sent = inspection.status == InspectionStatus.SENT
    reported = inspection.status == InspectionStatus.REPORTED
    return render(
        request,
        "portal/inspection.html",
        {
            "inspection": inspection,
            "machines": machines,
            "pending": pending,
            "approve_form": forms.get("approve") or (NameForm(prefix="approve") if sent else None),
            "decline_form": forms.get("decline") or (DeclineForm(prefix="decline") if sent else None),
            "confirm_form": forms.get("confirm") or (NameForm(prefix="confirm") if reported else None),
            "comment_form": forms.get("comment") or (CommentForm(prefix="comment") if reported else None),
            "has_report": inspection.report_version > 0,
        },
        status=status,
    )


def _resolve(token):
    return selectors.inspection_by_token(token)


@private
def inspection(request, token):
    try:
        found = _resolve(token)
    except Http404:
        return _unknown(request)
    return _page(request, found)


ACTIONS = {
    "approve": (
        NameForm,
        lambda i, t, d: services.approve_inspection(i, follow_token=t, name=d["name"]),
        _("Thank you: the inspection is approved."),
    ),
    "decline": (
        DeclineForm,
        lambda i, t, d: services.decline_inspection(i, follow_token=t, name=d["name"], reason=d["reason"]),
        _("The inspection is declined."),
    ),
    "confirm": (
        NameForm,
        lambda i, t, d: services.confirm_report(i, follow_token=t, name=d["name"]),
        _("Thank you: the report is confirmed."),
    ),
    "comment": (
        CommentForm,
        lambda i, t, d: services.comment_on_report(i, follow_token=t, name=d["name"], comment=d["comment"]),
        _("Thank you: your comments were sent."),
    ),
}


@private
@require_POST
def inspection_action(request, token, action):
    try:
        found = _resolve(token)
    except Http404:
        return _unknown(request)
    if action not in ACTIONS:
        return _unknown(request)
    form_class, perform, done = ACTIONS[action]
    form = form_class(request.POST, prefix=action)
    if form.is_valid():
        try:
            perform(found, token, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except (DomainError, PermissionDenied) as error:
            messages.error(request, getattr(error, "message", None) or _("This cannot be done now."))
            return redirect("portal:inspection", token=token)
        else:
            messages.success(request, str(done))
            return redirect("portal:inspection", token=token)
    return _page(request, found, {action: form}, status=400)


@private
@require_POST
def inspection_change(request, token, finding_pk):
    try:
        found = _resolve(token)
    except Http404:
        return _unknown(request)
    finding = get_object_or_404(found.findings, pk=finding_pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.decide_change(
            finding,
            approve=approve,
            reason=request.POST.get("reason", "")[:600],
            name=request.POST.get("name", "")[:200],
            follow_token=token,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except (DomainError, PermissionDenied) as error:
        messages.error(request, getattr(error, "message", None) or _("This cannot be done now."))
    else:
        messages.success(request, _("Your decision was recorded."))
    return redirect("portal:inspection", token=token)


@private
def inspection_pdf(request, token):
    try:
        found = _resolve(token)
    except Http404:
        return _unknown(request)
    if found.report_version == 0:
        return _unknown(request)
    return pdf_response(found, request.GET.get("lang"))
