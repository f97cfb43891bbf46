"""Contract and price list pages: thin views that parse a form, call a service and redirect."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.services import add_months
from fieldservice.contracts import selectors, services
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.forms import (
    ContractFilterForm,
    ContractForm,
    ExpiringForm,
    ExtendForm,
    NotesForm,
    PriceEditForm,
    PriceItemForm,
    PriceListForm,
    TerminateForm,
)
from fieldservice.contracts.permissions import may_manage_contracts
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.customers.selectors import customers_for

CONTRACTS = Listing(
    columns=[
        Column(
            gettext_lazy("Contract number"),
            lambda c: c.number,
            link=lambda c: reverse("contracts:detail", args=[c.pk]),
        ),
        Column(gettext_lazy("Customer"), lambda c: c.customer.name),
        Column(gettext_lazy("Level"), lambda c: c.get_level_display()),
        Column(
            gettext_lazy("Status"),
            lambda c: c.get_status_display(),
            cell="{% load contract_tags %}{% contract_status row %}",
        ),
        Column(
            gettext_lazy("Period"),
            cell='{{ row.starts_on|date:"Y-m-d" }} – {{ row.ends_on|date:"Y-m-d" }}',
            export=False,
        ),
        Column(gettext_lazy("Start"), lambda c: c.starts_on, page=False),
        Column(gettext_lazy("End"), lambda c: c.ends_on, page=False),
        Column(gettext_lazy("Machines"), lambda c: c.machine_count),
        Column(gettext_lazy("Included visits"), lambda c: c.included_visits, page=False),
        Column(
            gettext_lazy("Visits used"),
            lambda c: c.used_visits,
            cell="{{ row.used_visits }}{% if row.included_visits is not None %} / {{ row.included_visits }}{% endif %}",
        ),
        Column(gettext_lazy("SLA policy"), lambda c: c.sla_policy, page=False),
        Column(gettext_lazy("Contract fee"), lambda c: c.annual_fee, page=False),
        Column(gettext_lazy("Currency"), lambda c: c.currency, page=False),
    ],
    filter_form=ContractFilterForm,
    search=gettext_lazy("Number, customer or serial number"),
    search_label=gettext_lazy("Search contracts"),
    live=True,
    empty_count=False,
    empty=gettext_lazy("No service contracts yet."),
    empty_filtered=gettext_lazy("No contracts match your search."),
    export_name="contracts",
    export_title=gettext_lazy("Contracts"),
)
DEFAULT_EXPIRING_DAYS = 60


def _require_view(user) -> None:
    require(can(user, Capability.VIEW_CONTRACTS))


def _require_manage(user) -> None:
    require(may_manage_contracts(user))


def _require_prices(user) -> None:
    require(can(user, Capability.VIEW_CONTRACTS) and user.is_own_staff)


# Contracts


@login_required
def contract_list(request):
    _require_view(request.user)
    filter_form = CONTRACTS.filters(request, show_drafts=request.user.is_own_staff)
    filters = filter_form.filters() if request.GET else {}
    contracts = selectors.contract_list_for(request.user, request.GET.get("q", ""), **filters)
    return CONTRACTS.render(
        request,
        "contracts/contract_list.html",
        contracts,
        filters=filter_form,
        context={"may_manage": may_manage_contracts(request.user)},
    )


@login_required
def contract_detail(request, pk: int):
    _require_view(request.user)
    contract = selectors.get_contract_for(request.user, pk)
    chain = services.contract_periods(contract)
    visible = set(
        selectors.contracts_for(request.user).filter(pk__in=[p.pk for p in chain]).values_list("pk", flat=True)
    )
    periods = [period for period in chain if period.pk in visible]
    may_manage = may_manage_contracts(request.user)
    used = services.visits_used(contract)
    context = {
        "contract": contract,
        "machines": contract.equipment.select_related("product_model", "site").order_by("serial_number"),
        "panels": panels.render("contracts.contract", request, contract),
        "periods": periods if len(periods) > 1 else [],
        "visits_used": used,
        "visits_left": max(contract.included_visits - used, 0) if contract.included_visits is not None else None,
        "reminders": selectors.reminders_of(contract) if request.user.is_own_staff else [],
        "show_history": request.user.is_own_staff,
        "may_manage": may_manage,
        "may_extend": may_manage
        and contract.status in {ContractStatus.ACTIVE, ContractStatus.EXPIRED}
        and not hasattr(contract, "extension"),
        "terminate_form": TerminateForm(),
    }
    return render(request, "contracts/contract_detail.html", context)


def _chosen_customer(request):
    """The customer whose machines the create form lists (from ?customer= or the posted form)."""
    pk = parse_id(request.POST.get("customer") or request.GET.get("customer"))
    if pk is None:
        return None
    return customers_for(request.user).filter(pk=pk).first()


def _form_values(data: dict) -> dict:
    values = dict(data)
    values["equipment"] = list(values.get("equipment") or [])
    return values


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    _require_manage(request.user)
    customer = _chosen_customer(request)
    if customer is None:
        # First choose whose contract it is, so the form lists only that customer's machines.
        customers = customers_for(request.user).filter(is_active=True).order_by("name", "pk")
        return render(request, "contracts/contract_choose_customer.html", {"customers": customers})
    today = timezone.localdate()
    initial = {
        "customer": customer.pk,
        "starts_on": today,
        "ends_on": add_months(today, 12) - dt.timedelta(days=1),
        "price_list": selectors.price_lists_for(request.user)
        .filter(is_default=True)
        .values_list("pk", flat=True)
        .first(),
    }
    form = ContractForm(request.POST or None, initial=initial, user=request.user, customer=customer)
    form.fields["customer"].widget = form.fields["customer"].hidden_widget()
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.create_contract(actor=request.user, **_form_values(form.cleaned_data))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Draft contract %(number)s saved.") % {"number": contract.number})
            return redirect("contracts:detail", pk=contract.pk)
    context = {"form": form, "customer": customer, "title": _("New contract for %(name)s") % {"name": customer.name}}
    return render(request, "contracts/contract_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request, pk: int):
    contract = selectors.get_contract_for(request.user, pk)
    _require_manage(request.user)
    if contract.status == ContractStatus.DRAFT:
        initial = {name: getattr(contract, name) for name in services.CONTRACT_FIELDS if name != "customer"}
        initial["sla_policy"] = contract.sla_policy_id
        initial["price_list"] = contract.price_list_id
        initial["equipment"] = list(contract.equipment.values_list("pk", flat=True))
        form = ContractForm(
            request.POST or None, initial=initial, user=request.user, customer=contract.customer, fixed_customer=True
        )
    else:
        form = NotesForm(request.POST or None, initial={"notes": contract.notes})
    if request.method == "POST" and form.is_valid():
        fields = _form_values(form.cleaned_data) if contract.status == ContractStatus.DRAFT else form.cleaned_data
        try:
            services.update_contract(contract, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("contracts:detail", pk=contract.pk)
        else:
            messages.success(request, _("Contract %(number)s saved.") % {"number": contract.number})
            return redirect("contracts:detail", pk=contract.pk)
    context = {
        "form": form,
        "contract": contract,
        "customer": contract.customer,
        "title": _("Edit contract %(number)s") % {"number": contract.number},
    }
    return render(request, "contracts/contract_form.html", context)


def _verb_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@require_POST
def contract_activate(request, pk: int):
    contract = selectors.get_contract_for(request.user, pk)
    _require_manage(request.user)
    try:
        services.activate_contract(contract, actor=request.user)
    except ValidationError as error:
        _verb_errors(request, error)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Contract %(number)s is active.") % {"number": contract.number})
    return redirect("contracts:detail", pk=contract.pk)


@login_required
@require_POST
def contract_terminate(request, pk: int):
    contract = selectors.get_contract_for(request.user, pk)
    _require_manage(request.user)
    form = TerminateForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": _("Give a reason.")})
        services.terminate_contract(contract, actor=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        _verb_errors(request, error)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Contract %(number)s terminated.") % {"number": contract.number})
    return redirect("contracts:detail", pk=contract.pk)


@login_required
@require_http_methods(["GET", "POST"])
def contract_extend(request, pk: int):
    contract = selectors.get_contract_for(request.user, pk)
    _require_manage(request.user)
    next_start = contract.ends_on + dt.timedelta(days=1)
    length = contract.ends_on - contract.starts_on
    initial = {
        "ends_on": next_start + length,
        "level": contract.level,
        "sla_policy": contract.sla_policy_id,
        "included_visits": contract.included_visits,
        "maintenance_visits_per_year": contract.maintenance_visits_per_year,
        "annual_fee": contract.annual_fee,
    }
    form = ExtendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            extension = services.extend_contract(contract, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("contracts:detail", pk=contract.pk)
        else:
            messages.success(
                request,
                _("Draft %(number)s for the next period saved. Check it and activate it.")
                % {"number": extension.number},
            )
            return redirect("contracts:detail", pk=extension.pk)
    context = {
        "form": form,
        "contract": contract,
        "customer": contract.customer,
        "next_start": next_start,
        "title": _("Extend contract %(number)s") % {"number": contract.number},
    }
    return render(request, "contracts/contract_form.html", context)


@login_required
def expiring(request):
    """Contracts and warranties ending soon: the renewal sales list."""
    _require_view(request.user)
    form = ExpiringForm(request.GET or None)
    days = DEFAULT_EXPIRING_DAYS
    if form.is_valid() and form.cleaned_data.get("days"):
        days = form.cleaned_data["days"]
    today = timezone.localdate()
    context = {
        "form": form,
        "days": days,
        "today": today,
        "contracts": selectors.expiring_contracts(request.user, days, today)[:500],
        "warranties": selectors.expiring_warranties(request.user, days, today).select_related("customer")[:500],
    }
    return render(request, "contracts/expiring.html", context)


# Price lists


@login_required
def price_list_list(request):
    _require_prices(request.user)
    context = {
        "price_lists": selectors.price_lists_for(request.user),
        "may_manage": may_manage_contracts(request.user),
    }
    return render(request, "contracts/price_list_list.html", context)


@login_required
def price_list_detail(request, pk: int):
    _require_prices(request.user)
    price_list = selectors.get_price_list_for(request.user, pk)
    may_manage = may_manage_contracts(request.user)
    context = {
        "price_list": price_list,
        "items": price_list.items.select_related("part", "area"),
        "may_manage": may_manage,
        "item_form": PriceItemForm(user=request.user) if may_manage else None,
    }
    return render(request, "contracts/price_list_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def price_list_create(request):
    _require_manage(request.user)
    form = PriceListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            price_list = services.create_price_list(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price list %(name)s saved.") % {"name": price_list.name})
            return redirect("contracts:price_list_detail", pk=price_list.pk)
    return render(request, "contracts/price_list_form.html", {"form": form, "title": _("New price list")})


@login_required
@require_http_methods(["GET", "POST"])
def price_list_edit(request, pk: int):
    price_list = selectors.get_price_list_for(request.user, pk)
    _require_manage(request.user)
    initial = {name: getattr(price_list, name) for name in services.PRICE_LIST_FIELDS}
    form = PriceListForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_price_list(price_list, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price list %(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("contracts:price_list_detail", pk=price_list.pk)
    context = {
        "form": form,
        "price_list": price_list,
        "title": _("Edit price list %(name)s") % {"name": price_list.name},
    }
    return render(request, "contracts/price_list_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def price_item_create(request, pk: int):
    price_list = selectors.get_price_list_for(request.user, pk)
    _require_manage(request.user)
    form = PriceItemForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_price(price_list, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price saved."))
            return redirect("contracts:price_list_detail", pk=price_list.pk)
    context = {
        "form": form,
        "price_list": price_list,
        "title": _("Add a price to %(name)s") % {"name": price_list.name},
    }
    return render(request, "contracts/price_list_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def price_item_edit(request, pk: int):
    item = selectors.get_price_item_for(request.user, pk)
    _require_manage(request.user)
    form = PriceEditForm(request.POST or None, initial={"unit_price": item.unit_price})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_price(
                item.price_list,
                actor=request.user,
                kind=item.kind,
                part=item.part,
                area=item.area,
                name=item.name,
                service_type=item.service_type,
                engineer_level=item.engineer_level,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price saved."))
            return redirect("contracts:price_list_detail", pk=item.price_list_id)
    context = {
        "form": form,
        "price_list": item.price_list,
        "title": _("Price of %(item)s") % {"item": item.part or item.area or item.name or item.get_kind_display()},
    }
    return render(request, "contracts/price_list_form.html", context)


@login_required
@require_POST
def price_item_delete(request, pk: int):
    item = selectors.get_price_item_for(request.user, pk)
    _require_manage(request.user)
    price_list_pk = item.price_list_id
    services.remove_price(item, actor=request.user)
    messages.success(request, _("Price removed."))
    return redirect("contracts:price_list_detail", pk=price_list_pk)
