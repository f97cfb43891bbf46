"""Settlement pages: the statements list (the manager's all, a provider's or an engineer's own),
a statement with its lines and the actions of the party and the manager, the generation form,
the rules, and the engineer's own statements on the phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.billing import selectors
from fieldservice.billing.choices import (
    PERCENT_BASES,
    STATUS_COLOURS,
    PartyKind,
    SettlementBasis,
    StatementLineStatus,
    StatementStatus,
)
from fieldservice.billing.forms import (
    AdjustmentForm,
    CorrectForm,
    DisputeForm,
    GenerateForm,
    RuleForm,
    SettleForm,
    StatementFilterForm,
)
from fieldservice.billing.permissions import may_answer_statement, may_settle, may_view_statements
from fieldservice.billing.services import settlement as services
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing

OPEN = (StatementStatus.DRAFT, StatementStatus.CONFIRMED, StatementStatus.DISPUTED)

STATEMENTS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"), lambda s: s.number, link=lambda s: reverse("billing:statement_detail", args=[s.pk])
        ),
        Column(gettext_lazy("Party"), lambda s: str(s.party)),
        Column(gettext_lazy("Kind"), lambda s: s.get_party_kind_display()),
        Column(gettext_lazy("From"), lambda s: s.period_start),
        Column(gettext_lazy("To"), lambda s: s.period_end),
        Column(gettext_lazy("Orders"), lambda s: s.order_count),
        Column(gettext_lazy("Total"), lambda s: s.total, cell="billing/cells/statement_total.html"),
        Column(
            gettext_lazy("Status"), lambda s: s.get_status_display(), badge=lambda s: STATUS_COLOURS.get(s.status, "")
        ),
        Column(gettext_lazy("Payment reference"), lambda s: s.payment_reference, default="—"),
        Column(gettext_lazy("Currency"), lambda s: s.currency, page=False),
        Column(gettext_lazy("Settled"), lambda s: s.settled_at, page=False),
    ],
    filter_form=StatementFilterForm,
    search=gettext_lazy("Number, provider or engineer"),
    order=("-period_start", "party_kind", "pk"),
    empty=gettext_lazy("No statements yet."),
    empty_filtered=gettext_lazy("No statement matches these filters."),
    export_name="statements",
    export_title=gettext_lazy("Settlement statements"),
)

RULES = Listing(
    columns=[
        Column(
            gettext_lazy("Name"), lambda r: r.name, link=lambda r: reverse("billing:settlement_rule_edit", args=[r.pk])
        ),
        Column(gettext_lazy("For"), lambda r: r.provider or r.team or _("All our engineers")),
        Column(gettext_lazy("Service type"), lambda r: r.get_service_type_display(), default=gettext_lazy("Any")),
        Column(gettext_lazy("Basis"), lambda r: r.get_basis_display()),
        Column(gettext_lazy("Rate"), lambda r: r.rate),
        Column(gettext_lazy("Rating threshold"), lambda r: r.threshold, default="—"),
        Column(gettext_lazy("Active"), lambda r: r.is_active, cell="core/cells/active.html"),
    ],
    order=("provider__name", "team__name", "basis", "pk"),
    empty=gettext_lazy("No settlement rules yet: statements would be all zero."),
    export_name="settlement-rules",
    export_title=gettext_lazy("Settlement rules"),
)


# Statements -------------------------------------------------------------------------------------


def _lines(statement) -> list:
    """The statement's lines, each with its breakdown in words (the basis in the reader's language)."""
    labels = dict(SettlementBasis.choices)
    lines = list(selectors.lines_of(statement))
    for line in lines:
        line.parts = [
            {
                "label": labels.get(part.get("basis"), part.get("label", "")),
                "quantity": part.get("quantity"),
                "rate": part.get("rate"),
                "amount": part.get("amount"),
                "percent": part.get("basis") in PERCENT_BASES,
            }
            for part in (line.breakdown or [])
            if isinstance(part, dict)
        ]
    return lines


@login_required
def statement_list(request):
    require(may_view_statements(request.user))
    filters = STATEMENTS.filters(request)
    statements = selectors.statements_for(request.user, q=request.GET.get("q", ""), **filters.filters())
    manager = may_settle(request.user)
    return STATEMENTS.render(
        request,
        "billing/statement_list.html",
        statements,
        filters=filters,
        hide_filters=() if manager else ("party_kind", "provider"),
        context={"may_generate": manager, "generate_form": _generate_form()},
    )


def _any_disputed(lines) -> bool:
    return any(line.status == StatementLineStatus.DISPUTED for line in lines)


def _detail(request, statement, *, forms=None, status=200):
    user = request.user
    manager = may_settle(user)
    party = may_answer_statement(user, statement.party_kind, statement.party.pk)
    is_open = statement.status in OPEN
    lines = _lines(statement)
    context = {
        "statement": statement,
        "lines": lines,
        # A disputed line waits for the manager's correction before the statement can be confirmed.
        "may_confirm": party and statement.status == StatementStatus.DRAFT and not _any_disputed(lines),
        "may_dispute": party and is_open,
        "may_correct": manager and is_open,
        "may_approve": manager and statement.status in (StatementStatus.DRAFT, StatementStatus.CONFIRMED),
        "may_settle": manager and statement.status == StatementStatus.APPROVED,
        "may_adjust": manager and not is_open,
        "settle_form": (forms or {}).get("settle") or SettleForm(),
        "failed": (forms or {}).get("line"),
        "colour": STATUS_COLOURS.get(statement.status, ""),
    }
    return render(request, "billing/statement_detail.html", context, status=status)


@login_required
def statement_detail(request, pk):
    return _detail(request, selectors.get_statement_for(request.user, pk))


def _back(request, statement):
    """Back to the statement: on the phone when the engineer acted from there."""
    if request.POST.get("phone") and statement.engineer_id == request.user.pk:
        return redirect("billing:my_statement", pk=statement.pk)
    return redirect("billing:statement_detail", pk=statement.pk)


def _act(request, statement, action, success: str):
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return _back(request, statement)


@login_required
@require_POST
def statement_confirm(request, pk):
    statement = selectors.get_statement_for(request.user, pk)
    return _act(
        request,
        statement,
        lambda: services.confirm_statement(statement, actor=request.user),
        _("Statement %(number)s confirmed.") % {"number": statement.number},
    )


@login_required
@require_POST
def statement_approve(request, pk):
    statement = selectors.get_statement_for(request.user, pk)
    return _act(
        request,
        statement,
        lambda: services.approve_statement(statement, actor=request.user),
        _("Statement %(number)s approved.") % {"number": statement.number},
    )


@login_required
@require_POST
def statement_settle(request, pk):
    statement = selectors.get_statement_for(request.user, pk)
    form = SettleForm(request.POST)
    if form.is_valid():
        try:
            services.settle_statement(
                statement, actor=request.user, payment_reference=form.cleaned_data["payment_reference"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("billing:statement_detail", pk=statement.pk)
        else:
            messages.success(request, _("Statement %(number)s settled.") % {"number": statement.number})
            return redirect("billing:statement_detail", pk=statement.pk)
    return _detail(request, statement, forms={"settle": form}, status=422)


def _line_action(request, line_pk, form_class, call, success: str, key: str):
    line = selectors.get_line_for(request.user, line_pk)
    statement = line.statement
    if statement is None:
        messages.error(request, _("This adjustment is not on a statement yet."))
        return redirect("billing:statement_list")
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(line, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return _back(request, statement)
        else:
            messages.success(request, success)
            return _back(request, statement)
    if request.POST.get("phone") and statement.engineer_id == request.user.pk:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back(request, statement)
    failed = {"line": line.pk, "kind": key, "form": form}
    return _detail(request, selectors.get_statement_for(request.user, statement.pk), forms={"line": failed}, status=422)


@login_required
@require_POST
def line_dispute(request, pk):
    return _line_action(
        request,
        pk,
        DisputeForm,
        lambda line, data: services.dispute_line(line, actor=request.user, reason=data["reason"]),
        _("Line disputed: the service manager will look at it."),
        "dispute",
    )


@login_required
@require_POST
def line_correct(request, pk):
    return _line_action(
        request,
        pk,
        CorrectForm,
        lambda line, data: services.correct_line(
            line, actor=request.user, amount=data["amount"], reason=data["reason"]
        ),
        _("Line corrected: the statement waits for the party's confirmation."),
        "correct",
    )


@login_required
@require_POST
def line_adjust(request, pk):
    return _line_action(
        request,
        pk,
        AdjustmentForm,
        lambda line, data: services.adjust_settled_order(
            line.work_order, actor=request.user, amount=data["amount"], reason=data["reason"]
        ),
        _("Adjustment recorded: it goes on the party's next statement."),
        "adjust",
    )


def _generate_form() -> GenerateForm:
    """The usual run: last month's statements."""
    start, end = services.previous_month(timezone.localdate())
    return GenerateForm(initial={"period_start": start, "period_end": end})


@login_required
@require_POST
def statements_generate(request):
    require(may_settle(request.user))
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            summary = services.generate_statements(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(statements)s new statements, %(orders)s orders and %(adjustments)s adjustments placed.")
                % {
                    "statements": summary.statements_created,
                    "orders": summary.orders_placed,
                    "adjustments": summary.adjustments_placed,
                },
            )
    else:
        messages.error(request, _("Give the first and the last day of the period."))
    return redirect("billing:statement_list")


# Rules ------------------------------------------------------------------------------------------


@login_required
def rule_list(request):
    require(may_settle(request.user))
    return RULES.render(request, "billing/rule_list.html", selectors.rules_for(request.user))


def _rule_form(request, rule=None):
    require(may_settle(request.user))
    form = RuleForm(request.POST or None, initial=RuleForm.initial_of(rule) if rule else None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        try:
            if rule is None:
                rule = services.create_rule(actor=request.user, **values)
            else:
                rule = services.update_rule(rule, actor=request.user, **values)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("billing:settlement_rule_list")
    return render(request, "billing/rule_form.html", {"form": form, "rule": rule})


@login_required
def rule_create(request):
    return _rule_form(request)


@login_required
def rule_edit(request, pk):
    return _rule_form(request, selectors.get_rule_for(request.user, pk))


@login_required
@require_POST
def rule_deactivate(request, pk):
    rule = selectors.get_rule_for(request.user, pk)
    try:
        services.deactivate_rule(rule, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Rule “%(name)s” deactivated.") % {"name": rule.name})
    return redirect("billing:settlement_rule_list")


# The engineer's phone ---------------------------------------------------------------------------


@login_required
def my_statements(request):
    require(may_view_statements(request.user))
    statements = selectors.statements_for(request.user, party_kind=PartyKind.ENGINEER).filter(engineer=request.user)
    return render(request, "billing/phone_statements.html", {"statements": statements[:24]})


@login_required
def my_statement(request, pk):
    statement = selectors.get_statement_for(request.user, pk)
    if statement.engineer_id != request.user.pk:
        return redirect("billing:statement_detail", pk=statement.pk)
    lines = _lines(statement)
    context = {
        "statement": statement,
        "lines": lines,
        "may_confirm": statement.status == StatementStatus.DRAFT and not _any_disputed(lines),
        "may_dispute": statement.status in OPEN,
        "colour": STATUS_COLOURS.get(statement.status, ""),
    }
    return render(request, "billing/phone_statement.html", context)


def phone_link(request, user) -> str:
    """The engineer's way to his statements from his phone's home (slot `field.today`)."""
    if not can(user, Capability.VIEW_OWN_STATEMENTS):
        return ""
    return format_html(
        '<a class="button" id="statements-link" href="{}">{}</a>', reverse("billing:my_statements"), _("My statements")
    )
