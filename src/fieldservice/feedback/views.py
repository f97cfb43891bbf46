"""Desk pages for evaluations: the call-back queue and the evaluation list with averages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.feedback import selectors, services
from fieldservice.feedback.forms import CallbackForm, EvaluationFilterForm
from fieldservice.feedback.models import Evaluation
from fieldservice.feedback.permissions import may_call_back, may_review_evaluations


def contact_phone(evaluation: Evaluation) -> str:
    request = evaluation.work_order.request
    return (request.contact.phone if request.contact else "") or request.reporter_phone


def contact_name(evaluation: Evaluation) -> str:
    request = evaluation.work_order.request
    return (request.contact.name if request.contact else "") or request.reporter_name


SCORES = Column(gettext_lazy("Scores"), cell="feedback/cells/scores.html", export=False)
SCORE_COLUMNS = [
    Column(gettext_lazy("Overall"), lambda e: e.overall, page=False),
    Column(gettext_lazy("Timeliness"), lambda e: e.timeliness, page=False),
    Column(gettext_lazy("Attitude"), lambda e: e.attitude, page=False),
    Column(gettext_lazy("Quality of work"), lambda e: e.quality, page=False),
]
COMMENT = Column(gettext_lazy("Comment"), lambda e: e.comment, cell='{{ row.comment|default:"—"|linebreaksbr }}')

CALLBACKS = Listing(
    columns=[
        Column(gettext_lazy("Submitted"), lambda e: e.submitted_at, page=False),
        Column(
            gettext_lazy("Work order"),
            lambda e: e.work_order.number,
            cell='{{ row.work_order.number }}<br><span class="muted">'
            '{{ row.submitted_at|date:"SHORT_DATETIME_FORMAT" }}</span>',
        ),
        Column(gettext_lazy("Customer"), lambda e: e.work_order.customer.name),
        Column(gettext_lazy("Contact"), cell="feedback/cells/contact.html", export=False),
        SCORES,
        *SCORE_COLUMNS,
        COMMENT,
        Column(gettext_lazy("Contact"), contact_name, page=False),
        Column(gettext_lazy("Phone"), contact_phone, page=False),
        Column(gettext_lazy("Result of the call"), cell="feedback/cells/call_result.html", export=False),
    ],
    row_id="evaluation",
    empty=gettext_lazy("No call backs due. Well done."),
    export_name="callbacks",
    export_title=gettext_lazy("Call backs"),
)
EVALUATIONS = Listing(
    columns=[
        Column(gettext_lazy("Submitted"), lambda e: e.submitted_at, date="SHORT_DATETIME_FORMAT"),
        Column(gettext_lazy("Work order"), lambda e: e.work_order.number),
        Column(gettext_lazy("Customer"), lambda e: e.work_order.customer.name),
        SCORES,
        *SCORE_COLUMNS,
        COMMENT,
        Column(gettext_lazy("Call back"), cell="feedback/cells/call_back.html", export=False),
        Column(gettext_lazy("Needs a call back"), lambda e: e.needs_callback, page=False),
        Column(gettext_lazy("Call-back result"), lambda e: e.callback_result, page=False),
        Column(gettext_lazy("Called back by"), lambda e: e.callback_by or "", page=False),
        Column(gettext_lazy("Called back"), lambda e: e.callback_at, page=False),
    ],
    filter_form=EvaluationFilterForm,
    summary="feedback/_averages.html",
    empty=gettext_lazy("No evaluations match."),
    export_name="evaluations",
    export_title=gettext_lazy("Evaluations"),
)


@login_required
def callbacks(request):
    require(may_call_back(request.user))
    return CALLBACKS.render(
        request,
        "feedback/callbacks.html",
        selectors.callbacks_due_for(request.user),
        context={"callback_form": CallbackForm()},
    )


@login_required
def callback(request, pk):
    """Record the result of a call back. The list posts here; with errors the form shows here."""
    evaluation = selectors.get_evaluation_for(request.user, pk)
    require(may_call_back(request.user))
    form = CallbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_callback(evaluation, actor=request.user, result=form.cleaned_data["result"])
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("feedback:callbacks")
        else:
            messages.success(
                request, _("Call back for %(number)s recorded.") % {"number": evaluation.work_order.number}
            )
            return redirect("feedback:callbacks")
    return render(
        request,
        "feedback/callback.html",
        {
            "evaluation": evaluation,
            "form": form,
            "phone": contact_phone(evaluation),
            "contact": contact_name(evaluation),
        },
    )


@login_required
def evaluations(request):
    require(may_review_evaluations(request.user))
    filter_form = EVALUATIONS.filters(request, actor=request.user)
    filters = filter_form.filters() if request.GET else {}
    found = selectors.filter_evaluations(
        selectors.evaluations_for(request.user),
        **{key: value for key, value in filters.items() if value is not None and value != ""},
    )
    return EVALUATIONS.render(
        request,
        "feedback/evaluations.html",
        found,
        filters=filter_form,
        context={
            "averages": selectors.average_scores(found),
            # Directors review ratings but do not call customers: no link to a page they may not open.
            "may_call_back": may_call_back(request.user),
        },
    )
