"""Customer pages: thin views that parse a form, call a service and redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import panels
from fieldservice.core.errors import require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.customers import services
from fieldservice.customers.forms import ContactForm, CustomerFilterForm, CustomerForm, SiteForm
from fieldservice.customers.selectors import (
    contacts_for,
    customer_list_for,
    get_contact_for,
    get_customer_for,
    get_site_for,
    sites_for,
)

CUSTOMERS = Listing(
    columns=[
        Column(gettext_lazy("Code"), lambda c: c.code),
        Column(
            gettext_lazy("Name"),
            lambda c: c.name,
            cell="customers/cells/name.html",
        ),
        Column(gettext_lazy("Kind"), lambda c: c.get_kind_display()),
        Column(
            gettext_lazy("Tier"),
            lambda c: c.get_tier_display(),
            cell='{% if row.tier == "strategic" %}<span class="badge ok">{{ row.get_tier_display }}</span>'
            '{% elif row.tier == "key" %}<span class="badge warn">{{ row.get_tier_display }}</span>'
            "{% else %}{{ row.get_tier_display }}{% endif %}",
        ),
        Column(gettext_lazy("Industry"), lambda c: c.industry, page=False),
        Column(gettext_lazy("Service provider"), lambda c: c.service_provider, default="—"),
        Column(gettext_lazy("Sites"), lambda c: c.site_count),
        Column(gettext_lazy("Machines"), lambda c: c.equipment_count),
        Column(gettext_lazy("Active"), lambda c: c.is_active, page=False),
    ],
    filter_form=CustomerFilterForm,
    filter_labels=False,
    per_control=True,
    search=gettext_lazy("Name, code, contact name or phone"),
    search_label=gettext_lazy("Search customers"),
    live=True,
    empty_count=False,
    empty=gettext_lazy("No customers yet."),
    empty_filtered=gettext_lazy("No customers match your search."),
    export_name="customers",
    export_title=gettext_lazy("Customers"),
)


def _require_view(user) -> None:
    require(can(user, Capability.VIEW_CUSTOMERS))


def _require_change(user) -> None:
    require(services.can_change_customers(user))


@login_required
def customer_list(request):
    _require_view(request.user)
    filters = CUSTOMERS.filters(request, user=request.user)
    customers = filters.filter(customer_list_for(request.user, request.GET.get("q", "")))
    return CUSTOMERS.render(
        request,
        "customers/customer_list.html",
        customers,
        filters=filters,
        context={"may_change": services.can_change_customers(request.user)},
    )


@login_required
def customer_detail(request, pk: int):
    _require_view(request.user)
    customer = get_customer_for(request.user, pk)
    context = {
        "customer": customer,
        "contacts": contacts_for(request.user).filter(customer=customer),
        "sites": sites_for(request.user).filter(customer=customer),
        "panels": panels.render("customers.customer", request, customer),
        "may_change": services.can_change_customers(request.user),
    }
    return render(request, "customers/customer_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    _require_change(request.user)
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "title": _("New customer")})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = get_customer_for(request.user, pk)
    _require_change(request.user)
    initial = {
        "name": customer.name,
        "kind": customer.kind,
        "tier": customer.tier,
        "industry": customer.industry,
        "service_provider": customer.service_provider_id,
        "account_owner": customer.account_owner_id,
        "notes": customer.notes,
        "is_active": customer.is_active,
    }
    form = CustomerForm(request.POST or None, initial=initial, user=request.user, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    context = {"form": form, "customer": customer, "title": _("Edit customer %(name)s") % {"name": customer.name}}
    return render(request, "customers/customer_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request, pk: int):
    customer = get_customer_for(request.user, pk)
    _require_change(request.user)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.add_contact(customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return redirect("customers:detail", pk=customer.pk)
    context = {"form": form, "customer": customer, "title": _("New contact")}
    return render(request, "customers/customer_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = get_contact_for(request.user, pk)
    _require_change(request.user)
    initial = {name: getattr(contact, name) for name in services.CONTACT_FIELDS}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(contact, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Contact %(name)s saved.") % {"name": contact.name})
            return redirect("customers:detail", pk=contact.customer_id)
    context = {
        "form": form,
        "customer": contact.customer,
        "title": _("Edit contact %(name)s") % {"name": contact.name},
    }
    return render(request, "customers/customer_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request, pk: int):
    contact = get_contact_for(request.user, pk)
    _require_change(request.user)
    customer = contact.customer
    if request.method == "POST":
        name = contact.name
        services.remove_contact(contact, actor=request.user)
        messages.success(request, _("Contact %(name)s removed.") % {"name": name})
        return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/contact_confirm_delete.html", {"contact": contact, "customer": customer})


@login_required
@require_http_methods(["GET", "POST"])
def site_create(request, pk: int):
    customer = get_customer_for(request.user, pk)
    _require_change(request.user)
    form = SiteForm(request.POST or None, user=request.user, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.create_site(customer, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Site %(name)s added.") % {"name": site.name})
            return redirect("customers:detail", pk=customer.pk)
    context = {"form": form, "customer": customer, "title": _("New site")}
    return render(request, "customers/customer_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def site_edit(request, pk: int):
    site = get_site_for(request.user, pk)
    _require_change(request.user)
    initial = {name: getattr(site, name) for name in services.SITE_FIELDS}
    initial["contact"] = site.contact_id
    form = SiteForm(request.POST or None, initial=initial, user=request.user, customer=site.customer, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_site(site, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Site %(name)s saved.") % {"name": site.name})
            return redirect("customers:detail", pk=site.customer_id)
    context = {"form": form, "customer": site.customer, "title": _("Edit site %(name)s") % {"name": site.name}}
    return render(request, "customers/customer_form.html", context)
