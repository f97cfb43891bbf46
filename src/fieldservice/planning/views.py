"""Planning pages: the runs with the form to start one, and one run (progress, then the proposal beside the
current plan, with Apply and Discard). Thin views: parse a form, call a service, redirect with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.htmx import wants_fragment
from fieldservice.core.listing import paginate
from fieldservice.planning import selectors, services
from fieldservice.planning.choices import ACTIVE_RUN_STATUSES
from fieldservice.planning.forms import StartRunForm
from fieldservice.planning.permissions import may_plan
from fieldservice.planning.presentation import describe


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request):
    require(may_plan(request.user))
    form = StartRunForm(
        request.POST or None, teams=selectors.teams_for(request.user), areas=selectors.areas_for(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.start_run(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("planning:run", pk=run.pk)
    page = paginate(request, selectors.runs_for(request.user))
    return render(request, "planning/run_list.html", {"form": form, "page": page})


@login_required
def run_detail(request, pk: int):
    run = selectors.get_run_for(request.user, pk)
    require(may_plan(request.user))
    context = {"run": run, "active": run.status in ACTIVE_RUN_STATUSES, "view": describe(run)}
    return render(request, "planning/run_detail.html", context)


@login_required
def run_progress(request, pk: int):
    """The progress fragment, polled every second while the run is queued or running; once it is not,
    the whole page reloads to show the proposal (or why there is none)."""
    run = selectors.get_run_for(request.user, pk)
    require(may_plan(request.user))
    if run.status not in ACTIVE_RUN_STATUSES and wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    active = run.status in ACTIVE_RUN_STATUSES
    return render(request, "planning/_progress.html", {"run": run, "active": active})


def _post(request, pk: int, action, done_message: str):
    run = selectors.get_run_for(request.user, pk)
    try:
        action(run, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done_message)
    return redirect("planning:run", pk=run.pk)


@login_required
@require_POST
def run_cancel(request, pk: int):
    return _post(request, pk, services.cancel_run, _("The optimisation is being stopped."))


@login_required
@require_POST
def run_discard(request, pk: int):
    return _post(request, pk, services.discard_run, _("The proposal was discarded."))


@login_required
@require_POST
def run_apply(request, pk: int):
    return _post(request, pk, services.apply_run, _("The proposal was applied: visits and assignments are set."))
