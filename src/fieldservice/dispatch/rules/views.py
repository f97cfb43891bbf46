"""Pages of the auto-dispatch rules: the ordered table, the rule form, and the tester.

Dispatchers may read the rules and use the tester; changing them needs MANAGE_DISPATCH_RULES.
The tester only reads (`autodispatch.explain`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.validation import parse_id
from fieldservice.dispatch.assignments import selectors
from fieldservice.dispatch.permissions import may_manage_rules, may_view_rules
from fieldservice.dispatch.rules import services
from fieldservice.dispatch.rules.autodispatch import explain
from fieldservice.dispatch.rules.conditions import CONDITION_FIELDS
from fieldservice.dispatch.rules.engine import FACTORS, factor_labels
from fieldservice.dispatch.rules.forms import RuleForm, TesterForm, condition_choices
from fieldservice.workorders.selectors import work_orders_for


def _conditions_text(rule) -> list[tuple[str, str]]:
    """Each condition as (label, values) in words, for the table."""
    lines = []
    for name, values in (rule.conditions or {}).items():
        if name not in CONDITION_FIELDS:
            continue
        names = dict(condition_choices(name))
        shown = [str(names.get(str(v), v)) for v in values]
        lines.append((CONDITION_FIELDS[name][0], ", ".join(shown)))
    return lines


@login_required
def rule_list(request):
    require(may_view_rules(request.user))
    rules = list(selectors.rules_for(request.user))
    rows = [{"rule": rule, "conditions": _conditions_text(rule)} for rule in rules]
    return render(
        request,
        "dispatch/rules.html",
        {"rows": rows, "may_manage": may_manage_rules(request.user)},
    )


def _rule_form_page(request, rule=None):
    require(may_manage_rules(request.user))
    form = RuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services.create_rule(actor=request.user, **form.service_fields())
                messages.success(request, _("Rule “%(name)s” added.") % {"name": saved.name})
            else:
                saved = services.update_rule(rule, actor=request.user, **form.service_fields())
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
        except ValidationError as error:
            add_service_errors(form, error, aliases=RuleForm.aliases())
        else:
            return redirect("dispatch:rules")
    return render(request, "dispatch/rule_form.html", {"form": form, "rule": rule})


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request):
    return _rule_form_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    require(may_manage_rules(request.user))
    return _rule_form_page(request, selectors.get_rule_for(request.user, pk))


@login_required
@require_POST
def rule_move(request, pk: int):
    require(may_manage_rules(request.user))
    rule = selectors.get_rule_for(request.user, pk)
    try:
        services.move_rule(rule, actor=request.user, direction=request.POST.get("direction", ""))
    except (ValidationError, DomainError) as error:
        messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
    return redirect("dispatch:rules")


@login_required
@require_POST
def rule_toggle(request, pk: int):
    require(may_manage_rules(request.user))
    rule = selectors.get_rule_for(request.user, pk)
    rule = services.set_rule_active(rule, actor=request.user, is_active=not rule.is_active)
    if rule.is_active:
        messages.success(request, _("Rule “%(name)s” switched on.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” switched off.") % {"name": rule.name})
    return redirect("dispatch:rules")


@login_required
@require_POST
def rule_delete(request, pk: int):
    require(may_manage_rules(request.user))
    rule = selectors.get_rule_for(request.user, pk)
    services.delete_rule(rule, actor=request.user)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("dispatch:rules")


@login_required
def rule_tester(request):
    require(may_view_rules(request.user))
    form = TesterForm(request.GET or None)
    result = None
    if form.is_valid():
        value = form.cleaned_data["order"].strip()
        orders = work_orders_for(request.user)
        order = orders.filter(number__iexact=value).first()
        if order is None and parse_id(value):
            order = orders.filter(pk=parse_id(value)).first()
        if order is None:
            form.add_error("order", _("No work order %(number)s.") % {"number": value})
        else:
            result = {"order": order, **explain(order)}
    labels = factor_labels()
    return render(
        request,
        "dispatch/rule_tester.html",
        {"form": form, "result": result, "factors": [(f, labels[f]) for f in FACTORS]},
    )
