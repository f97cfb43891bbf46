"""Pages for product models and the installed base. Thin: forms parse, services decide,
selectors scope."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.accounts.selectors import own_company
from fieldservice.assets import labels, selectors, services
from fieldservice.assets.forms import (
    BomLineForm,
    DocumentForm,
    EquipmentFilterForm,
    EquipmentForm,
    InvalidateForm,
    ProductModelForm,
)
from fieldservice.assets.models import Equipment
from fieldservice.assets.permissions import may_change_assets, may_change_models
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id

EQUIPMENT = Listing(
    columns=[
        Column(
            gettext_lazy("Serial number"),
            lambda e: e.serial_number,
            link=lambda e: reverse("assets:equipment_detail", args=[e.pk]),
            export=False,
        ),
        Column(gettext_lazy("Model code"), lambda e: e.product_model.code, page=False),
        Column(
            gettext_lazy("Model"),
            lambda e: e.product_model.name,
            cell='{{ row.product_model.code }} <span class="muted">{{ row.product_model.name }}</span>',
        ),
        Column(gettext_lazy("Serial number"), lambda e: e.serial_number, page=False),
        Column(gettext_lazy("Lot / batch"), lambda e: e.lot_number, page=False),
        Column(gettext_lazy("Customer"), lambda e: e.customer.name),
        Column(gettext_lazy("Site"), lambda e: e.site.name if e.site else "", default="—"),
        Column(gettext_lazy("Lot / batch"), lambda e: e.lot_number, default="—", export=False),
        Column(gettext_lazy("Installation date"), lambda e: e.installed_on, page=False),
        Column(gettext_lazy("Warranty end"), lambda e: e.warranty_ends_on, page=False),
        Column(
            gettext_lazy("Warranty"),
            lambda e: e.warranty_state().label,
            cell="{% load assets_tags %}{% warranty_badge row %}",
        ),
        Column(
            gettext_lazy("Status"),
            lambda e: e.get_status_display(),
            cell="{% load assets_tags %}{% status_badge row %}",
        ),
    ],
    filter_form=EquipmentFilterForm,
    search=gettext_lazy("Serial, lot, model or customer"),
    empty=gettext_lazy("No equipment registered yet."),
    empty_filtered=gettext_lazy("No equipment matches this search."),
    export_name="equipment",
    export_title=gettext_lazy("Equipment"),
)

PRODUCT_MODELS = Listing(
    columns=[
        Column(
            gettext_lazy("Model code"),
            lambda m: m.code,
            link=lambda m: reverse("assets:product_model_detail", args=[m.pk]),
        ),
        Column(gettext_lazy("Name"), lambda m: m.name),
        Column(gettext_lazy("Product line"), lambda m: m.product_line, default="—"),
        Column(
            gettext_lazy("Default warranty (months)"),
            lambda m: m.default_warranty_months,
            heading=gettext_lazy("Warranty (months)"),
        ),
        Column(gettext_lazy("Machines"), lambda m: m.machine_count),
        Column(
            gettext_lazy("Active"),
            lambda m: m.is_active,
            cell="core/cells/active.html",
        ),
    ],
    search=gettext_lazy("Code, name or product line"),
    empty=gettext_lazy("No product models yet."),
    empty_filtered=gettext_lazy("No product model matches this search."),
    export_name="product-models",
    export_title=gettext_lazy("Product models"),
)

EQUIPMENT_FORM_FIELDS = [
    "product_model",
    "serial_number",
    "lot_number",
    "customer",
    "site",
    "parent",
    "installed_on",
    "warranty_starts_on",
    "warranty_ends_on",
]


def _require_view(user) -> None:
    require(can(user, Capability.VIEW_ASSETS))


# Equipment ------------------------------------------------------------------


@login_required
def equipment_list(request):
    _require_view(request.user)
    filter_form = EQUIPMENT.filters(request, actor=request.user)
    filters = filter_form.filters() if request.GET else {}
    equipment = selectors.filter_equipment(
        selectors.search_equipment(request.user, request.GET.get("q", "")).select_related("site"),
        **{key: value for key, value in filters.items() if value},
    )
    return EQUIPMENT.render(
        request,
        "assets/equipment_list.html",
        equipment,
        filters=filter_form,
        context={"may_change": may_change_assets(request.user)},
    )


def _equipment_form_page(request, form, equipment: Equipment | None):
    return render(request, "assets/equipment_form.html", {"form": form, "equipment": equipment})


@login_required
def equipment_create(request):
    require(may_change_assets(request.user))
    links_url = reverse("assets:equipment_links")
    form = EquipmentForm(request.POST or None, actor=request.user, site_options_url=links_url)
    if request.method == "POST" and form.is_valid():
        try:
            equipment = services.register_equipment(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Equipment %(name)s registered.") % {"name": equipment})
            return redirect("assets:equipment_detail", pk=equipment.pk)
    return _equipment_form_page(request, form, None)


@login_required
def equipment_edit(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    require(may_change_assets(request.user))
    initial = {name: getattr(equipment, name) for name in EQUIPMENT_FORM_FIELDS}
    form = EquipmentForm(
        request.POST or None,
        initial=initial,
        actor=request.user,
        equipment=equipment,
        site_options_url=reverse("assets:equipment_links") + f"?equipment={equipment.pk}",
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name != "product_model"}
        try:
            if changes:
                services.update_equipment(equipment, actor=request.user, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Equipment %(name)s saved.") % {"name": equipment})
            return redirect("assets:equipment_detail", pk=equipment.pk)
    return _equipment_form_page(request, form, equipment)


@login_required
def equipment_links(request):
    """The site and machine choices for the customer just picked in the equipment form (htmx)."""
    require(may_change_assets(request.user))
    equipment = None
    equipment_id = parse_id(request.GET.get("equipment"))
    if equipment_id:
        equipment = selectors.get_equipment_for(request.user, equipment_id)
    form = EquipmentForm(
        initial={"customer": parse_id(request.GET.get("customer"))}, actor=request.user, equipment=equipment
    )
    return render(request, "assets/equipment_form.html#links", {"form": form, "equipment": equipment})


def _detail_context(request, equipment: Equipment, **forms) -> dict:
    return {
        "equipment": equipment,
        "modules": selectors.modules_of(request.user, equipment),
        "fitted_parts": selectors.fitted_parts_of(equipment),
        "documents": selectors.documents_for(request.user, equipment).select_related("uploaded_by"),
        "document_form": DocumentForm(),
        "invalidate_form": InvalidateForm(),
        "may_change": may_change_assets(request.user),
        "public_url": labels.public_url(equipment),
        # Apps above assets show their rows of the machine here (maintenance: readings, plans).
        "panels": panels.render("assets.equipment", request, equipment),
        **forms,
    }


@login_required
def equipment_detail(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    return render(request, "assets/equipment_detail.html", _detail_context(request, equipment))


@login_required
@require_POST
def equipment_invalidate(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    require(may_change_assets(request.user))
    form = InvalidateForm(request.POST)
    if form.is_valid():
        try:
            services.invalidate_equipment(equipment, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("assets:equipment_detail", pk=pk)
        else:
            messages.success(request, _("Equipment %(name)s invalidated.") % {"name": equipment})
            return redirect("assets:equipment_detail", pk=pk)
    return render(request, "assets/equipment_detail.html", _detail_context(request, equipment, invalidate_form=form))


@login_required
@require_POST
def equipment_reinstate(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    require(may_change_assets(request.user))
    try:
        services.reinstate_equipment(equipment, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Equipment %(name)s is registered again.") % {"name": equipment})
    return redirect("assets:equipment_detail", pk=pk)


@login_required
@require_POST
def equipment_renew_token(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    require(may_change_assets(request.user))
    services.renew_public_token(equipment, actor=request.user)
    messages.success(request, _("New QR code issued. Print a new label; the old one no longer works."))
    return redirect("assets:equipment_detail", pk=pk)


@login_required
@require_POST
def document_add(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    require(may_change_assets(request.user))
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_equipment_document(
                equipment, actor=request.user, title=form.cleaned_data["title"], file=form.cleaned_data["file"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document added."))
            return redirect("assets:equipment_detail", pk=pk)
    return render(request, "assets/equipment_detail.html", _detail_context(request, equipment, document_form=form))


@login_required
def document_download(request, pk, document_pk):
    """Documents are served through here, never straight from /media/, so scoping applies."""
    equipment = selectors.get_equipment_for(request.user, pk)
    document = selectors.get_document_for(request.user, equipment, document_pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    extension = document.file.name.rsplit(".", 1)[-1] if "." in document.file.name else ""
    filename = f"{slugify(document.title) or 'document'}.{extension}".rstrip(".")
    # Content checked at upload: only PDFs and images are stored, so they may open inline.
    response = FileResponse(handle, content_type=document.content_type, filename=filename)
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


def _label_filename(equipment: Equipment, extension: str) -> str:
    name = slugify(f"{equipment.product_model.code}-{equipment.serial_number}") or str(equipment.pk)
    return f"label-{name}.{extension}"


def _label_response(request, equipment: Equipment, content, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{_label_filename(equipment, extension)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def equipment_label_png(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    return _label_response(request, equipment, labels.label_png(equipment), "image/png", "png")


@login_required
def equipment_label_svg(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    return _label_response(request, equipment, labels.label_svg(equipment), "image/svg+xml", "svg")


@login_required
def equipment_label_print(request, pk):
    equipment = selectors.get_equipment_for(request.user, pk)
    return render(request, "assets/equipment_label_print.html", {"equipment": equipment})


# Product models -----------------------------------------------------------


@login_required
def product_model_list(request):
    _require_view(request.user)
    models = selectors.search_product_models(request.user, request.GET.get("q", ""))
    return PRODUCT_MODELS.render(
        request,
        "assets/product_model_list.html",
        models,
        context={"may_change": may_change_models(request.user)},
    )


def _product_model_detail_context(request, product_model, bom_form=None):
    return {
        "product_model": product_model,
        "bom_lines": selectors.bom_lines_of(product_model),
        "machine_count": selectors.equipment_for(request.user).filter(product_model=product_model).count(),
        "may_change": may_change_models(request.user),
        "bom_form": bom_form or BomLineForm(actor=request.user),
    }


@login_required
def product_model_detail(request, pk):
    product_model = selectors.get_product_model_for(request.user, pk)
    return render(request, "assets/product_model_detail.html", _product_model_detail_context(request, product_model))


@login_required
def product_model_create(request):
    require(may_change_models(request.user))
    form = ProductModelForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            product_model = services.create_product_model(actor=request.user, **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Product model %(name)s created.") % {"name": product_model})
            return redirect("assets:product_model_detail", pk=product_model.pk)
    return render(request, "assets/product_model_form.html", {"form": form, "product_model": None})


@login_required
def product_model_edit(request, pk):
    product_model = selectors.get_product_model_for(request.user, pk)
    require(may_change_models(request.user))
    initial = {
        name: getattr(product_model, name)
        for name in ("code", "name", "product_line", "default_warranty_months", "description", "image", "is_active")
    }
    form = ProductModelForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            services.update_product_model(product_model, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Product model %(name)s saved.") % {"name": product_model})
            return redirect("assets:product_model_detail", pk=product_model.pk)
    return render(request, "assets/product_model_form.html", {"form": form, "product_model": product_model})


@login_required
@require_POST
def bom_line_add(request, pk):
    """Add a part to the BOM, or change its quantity when it is already there."""
    product_model = selectors.get_product_model_for(request.user, pk)
    require(may_change_models(request.user))
    form = BomLineForm(request.POST, actor=request.user)
    if form.is_valid():
        part, quantity = form.cleaned_data["part"], form.cleaned_data["quantity"]
        lines = [
            (line.part, line.quantity) for line in selectors.bom_lines_of(product_model) if line.part_id != part.pk
        ]
        lines.append((part, quantity))
        try:
            services.set_bom(product_model, actor=request.user, lines=lines)
        except ValidationError as error:
            add_service_errors(form, error, {f"lines[{len(lines) - 1}].quantity": "quantity"})
        else:
            messages.success(request, _("Bill of materials saved."))
            return redirect("assets:product_model_detail", pk=pk)
    return render(
        request,
        "assets/product_model_detail.html",
        _product_model_detail_context(request, product_model, bom_form=form),
    )


@login_required
@require_POST
def bom_line_remove(request, pk, part_pk):
    product_model = selectors.get_product_model_for(request.user, pk)
    require(may_change_models(request.user))
    lines = [(line.part, line.quantity) for line in selectors.bom_lines_of(product_model)]
    remaining = [(part, quantity) for part, quantity in lines if part.pk != part_pk]
    if len(remaining) == len(lines):
        raise Http404
    try:
        services.set_bom(product_model, actor=request.user, lines=remaining)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Bill of materials saved."))
    return redirect("assets:product_model_detail", pk=pk)


@login_required
def product_model_image(request, pk):
    product_model = selectors.get_product_model_for(request.user, pk)
    return _image_response(product_model)


def _image_response(product_model):
    if not product_model.image:
        raise Http404
    try:
        handle = product_model.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["Cache-Control"] = "public, max-age=3600"
    return response


# Public page ---------------------------------------------------------------


def public_equipment(request, token):
    """What anyone holding the machine's QR code sees: the machine and its warranty, nothing
    about who owns it or where it stands."""
    try:
        equipment = selectors.equipment_by_public_token(token)
    except Http404:
        return render(request, "assets/public_unknown.html", status=404)
    company = own_company()
    return render(
        request,
        "assets/public_equipment.html",
        {
            "equipment": equipment,
            "product_model": equipment.product_model,
            "company_name": settings.FSM_COMPANY_NAME or (company.name if company else _("Customer service")),
            "service_phone": company.phone if company else "",
            # Notices of the apps above (a recall of this machine), public like the page.
            "panels": panels.render("assets.public_equipment", request, equipment),
        },
    )


def public_equipment_image(request, token):
    equipment = selectors.equipment_by_public_token(token)
    return _image_response(equipment.product_model)


def customer_equipment_panel(request, customer) -> str:
    """The customer's machines, a panel of the customer page (`core.panels`)."""
    equipment = selectors.equipment_for(request.user).filter(customer=customer)
    return render_to_string("assets/_customer_equipment.html", {"equipment": equipment}, request=request)
