"""Pages for the service desk: the agent console, service requests and work orders. Thin:
forms parse, services decide, selectors scope."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.selectors import get_equipment_for, registered_equipment_for, search_equipment
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.htmx import wants_fragment
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.customers.selectors import contacts_for, get_customer_for, search_customers, sites_for
from fieldservice.inventory.selectors import parts_for
from fieldservice.workorders import exports, selectors
from fieldservice.workorders.choices import (
    OPEN_STATUSES,
    TO_DISPATCH_STATUSES,
    AttachmentKind,
    RequestStatus,
    Transition,
    WorkOrderStatus,
)
from fieldservice.workorders.forms import (
    TO_DISPATCH,
    AssignCustomerForm,
    CancelForm,
    ConfirmRequestForm,
    DiscardRequestForm,
    HoldForm,
    NeededPartsForm,
    NoteForm,
    RequestFilterForm,
    RequestForm,
    ResolveRequestForm,
    WorkOrderCreateForm,
    WorkOrderFilterForm,
)
from fieldservice.workorders.models import ServiceRequest, WorkOrder
from fieldservice.workorders.permissions import may_manage_orders, may_work_on
from fieldservice.workorders.public_views import follow_url
from fieldservice.workorders.services import intake, lifecycle, needed_parts

REQUESTS = Listing(
    columns=[
        Column(
            gettext_lazy("Request number"),
            lambda r: r.number,
            link=lambda r: reverse("workorders:request_detail", args=[r.pk]),
        ),
        Column(gettext_lazy("Created"), lambda r: r.created_at, date="Y-m-d H:i"),
        Column(
            gettext_lazy("Status"),
            lambda r: r.get_status_display(),
            cell="{% load workorders_tags %}{% request_status row %}",
        ),
        Column(gettext_lazy("Channel"), lambda r: r.get_channel_display()),
        Column(gettext_lazy("Customer"), lambda r: r.customer.name if r.customer else "", default="—"),
        Column(
            gettext_lazy("Equipment"),
            lambda r: r.equipment.serial_number if r.equipment else "",
            cell="{% if row.equipment %}{{ row.equipment.product_model.code }} #{{ row.equipment.serial_number }}"
            "{% else %}—{% endif %}",
        ),
        Column(gettext_lazy("Service type"), lambda r: r.get_service_type_display(), page=False),
        Column(gettext_lazy("Priority"), lambda r: r.get_priority_display(), page=False),
        Column(
            gettext_lazy("Reporter"),
            lambda r: r.reporter_name,
            cell='{{ row.reporter_name|default:"" }} <span class="muted">{{ row.reporter_phone }}</span>',
        ),
        Column(gettext_lazy("Reporter's phone"), lambda r: r.reporter_phone, page=False),
        Column(gettext_lazy("Description"), lambda r: r.description, cell="{{ row.description|truncatechars:80 }}"),
    ],
    filter_form=RequestFilterForm,
    search=gettext_lazy("Number, phone or description"),
    empty=gettext_lazy("No service requests yet."),
    empty_filtered=gettext_lazy("No request matches this search."),
    export_name="service-requests",
    export_title=gettext_lazy("Requests"),
)
ORDERS = Listing(
    columns=exports.order_columns,
    filter_form=WorkOrderFilterForm,
    search=gettext_lazy("Number, customer or serial"),
    empty=gettext_lazy("No work orders yet."),
    empty_filtered=gettext_lazy("No work order matches this search."),
    export_name="work-orders",
    export_title=gettext_lazy("Work orders"),
)


def _optional_url(name: str, *args) -> str:
    """Pages of other apps that may not exist yet (portal, dispatch, field)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _phone_digits(text: str) -> str:
    digits = re.sub(r"[\s\-().+]", "", text)
    return digits if digits.isdigit() else ""


def _may_use_desk(user) -> bool:
    return can(user, Capability.FILE_REQUESTS) and user.is_own_staff


# Agent console ---------------------------------------------------------------


def _desk_context(request, customer, form, *, query: str = "", found_customers=(), found_equipment=()) -> dict:
    user = request.user
    context = {
        "query": query,
        "found_customers": found_customers,
        "found_equipment": found_equipment,
        "customer": customer,
        "form": form,
        "may_suggest": can(user, Capability.VIEW_KNOWLEDGE),
    }
    if customer is not None:
        context.update(
            contacts=contacts_for(user).filter(customer=customer),
            sites=sites_for(user).filter(customer=customer, is_active=True),
            equipment=registered_equipment_for(user).filter(customer=customer).order_by("serial_number"),
            open_orders=selectors.work_orders_for(user).filter(customer=customer, status__in=OPEN_STATUSES),
            recent_requests=selectors.requests_for(user).filter(customer=customer)[:10],
        )
    return context


def _file(request, form: RequestForm) -> ServiceRequest | None:
    """File the request (and resolve it, for a question answered on the phone); on a service
    error put the messages on the form and return None."""
    resolve = request.POST.get("action") == "resolve"
    try:
        if resolve:
            service_request = intake.file_consultation(
                actor=request.user, resolution=form.cleaned_data.get("resolution", ""), **form.service_fields()
            )
        else:
            service_request = intake.file_request(actor=request.user, **form.service_fields())
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    if resolve:
        messages.success(request, _("Request %(number)s filed and resolved.") % {"number": service_request.number})
    else:
        messages.success(request, _("Request %(number)s filed.") % {"number": service_request.number})
    return service_request


@login_required
def desk(request):
    """One search box for the agent on the phone: who is calling, which machine, what is open."""
    user = request.user
    require(_may_use_desk(user))
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, actor=user, fixed_customer=True)
        if form.is_valid():
            service_request = _file(request, form)
            if service_request is not None:
                return redirect("workorders:request_detail", pk=service_request.pk)
        customer = form.cleaned_data.get("customer") if hasattr(form, "cleaned_data") else None
        return render(request, "workorders/desk.html", _desk_context(request, customer, form))

    query = request.GET.get("q", "").strip()
    found_customers, found_equipment = [], []
    customer = equipment = None
    if parse_id(request.GET.get("customer")):
        customer = get_customer_for(user, parse_id(request.GET["customer"]))
    if parse_id(request.GET.get("equipment")):
        equipment = get_equipment_for(user, parse_id(request.GET["equipment"]))
        customer = customer or equipment.customer
    if query:
        found_customers = list(search_customers(user, query).order_by("name", "pk")[:20])
        found_equipment = list(search_equipment(user, query).order_by("serial_number", "pk")[:20])
        if customer is None and len(found_equipment) == 1:
            equipment = found_equipment[0]
            customer = equipment.customer
        elif customer is None and len(found_customers) == 1:
            customer = found_customers[0]
    initial = {"customer": customer, "equipment": equipment if equipment and equipment.is_registered else None}
    if customer is not None and _phone_digits(query):
        contact = contacts_for(user).filter(customer=customer, phone__contains=_phone_digits(query)).first()
        initial.update(contact=contact, reporter_phone="" if contact else query)
    form = RequestForm(initial=initial, actor=user, customer=customer, fixed_customer=True) if customer else None
    return render(
        request,
        "workorders/desk.html",
        _desk_context(
            request, customer, form, query=query, found_customers=found_customers, found_equipment=found_equipment
        ),
    )


@login_required
def request_new(request):
    """Filing a request outside the console: a customer is chosen in the form."""
    user = request.user
    require(can(user, Capability.FILE_REQUESTS))
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, actor=user)
        if form.is_valid():
            service_request = _file(request, form)
            if service_request is not None:
                return redirect("workorders:request_detail", pk=service_request.pk)
    else:
        form = RequestForm(initial={"customer": parse_id(request.GET.get("customer"))}, actor=user)
        if wants_fragment(request):
            return render(request, "workorders/request_form.html#links", {"form": form})
    return render(
        request, "workorders/request_form.html", {"form": form, "may_suggest": can(user, Capability.VIEW_KNOWLEDGE)}
    )


# Requests ------------------------------------------------------------------------


def _search_requests(requests, text: str):
    text = (text or "").strip()
    if not text:
        return requests
    condition = Q(number__icontains=text) | Q(description__icontains=text) | Q(reporter_name__icontains=text)
    digits = _phone_digits(text)
    if digits:
        condition |= Q(reporter_phone__contains=digits) | Q(contact__phone__contains=digits)
    return requests.filter(condition)


@login_required
def request_list(request):
    user = request.user
    require(can(user, Capability.VIEW_WORK_ORDERS))
    filter_form = REQUESTS.filters(request, actor=user)
    requests = _search_requests(selectors.requests_for(user), request.GET.get("q", "")).filter(**filter_form.filters())
    return REQUESTS.render(
        request,
        "workorders/request_list.html",
        requests,
        filters=filter_form,
        context={
            "may_file": can(user, Capability.FILE_REQUESTS),
            "may_use_desk": _may_use_desk(user),
            "waiting": RequestStatus.UNCONFIRMED,
        },
    )


def _request_context(request, service_request: ServiceRequest, **forms) -> dict:
    user = request.user
    may_manage = may_manage_orders(user)
    context = {
        "service_request": service_request,
        "photos": service_request.attachments.all(),
        "work_orders": selectors.work_orders_for(user).filter(request=service_request),
        "may_manage": may_manage,
        "follow_url": "",
    }
    if may_manage:
        context["follow_url"] = follow_url(service_request)
        status = service_request.status
        if status == RequestStatus.UNCONFIRMED and service_request.customer_id is None:
            context["assign_form"] = forms.get("assign_form") or AssignCustomerForm(actor=user)
        elif status == RequestStatus.UNCONFIRMED:
            context["confirm_form"] = forms.get("confirm_form") or ConfirmRequestForm(
                actor=user, service_request=service_request
            )
        if status in (RequestStatus.OPEN, RequestStatus.UNCONFIRMED):
            context["resolve_form"] = forms.get("resolve_form") or ResolveRequestForm()
            context["discard_form"] = forms.get("discard_form") or DiscardRequestForm()
        if status in (RequestStatus.OPEN, RequestStatus.CONVERTED):
            context["order_form"] = forms.get("order_form") or WorkOrderCreateForm(
                actor=user, service_request=service_request
            )
    return context


@login_required
def request_detail(request, pk):
    service_request = selectors.get_request_for(request.user, pk)
    return render(request, "workorders/request_detail.html", _request_context(request, service_request))


def _request_action(request, pk, form_name: str, make_form, act, success: str):
    """Run one request verb from a POSTed form. Field errors re-render the page with the form;
    an illegal move (DomainError) is a message and changes nothing."""
    service_request = selectors.get_request_for(request.user, pk)
    require(may_manage_orders(request.user))
    form = make_form(service_request)
    if form.is_valid():
        try:
            result = act(service_request, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("workorders:request_detail", pk=pk)
        else:
            messages.success(request, success % {"number": service_request.number})
            if isinstance(result, WorkOrder):
                return redirect("workorders:order_detail", pk=result.pk)
            return redirect("workorders:request_detail", pk=pk)
    service_request.refresh_from_db()
    context = _request_context(request, service_request, **{form_name: form})
    return render(request, "workorders/request_detail.html", context)


@login_required
@require_POST
def request_confirm(request, pk):
    return _request_action(
        request,
        pk,
        "confirm_form",
        lambda r: ConfirmRequestForm(request.POST, actor=request.user, service_request=r),
        lambda r, data: intake.confirm_request(
            r,
            actor=request.user,
            contact=data["contact"],
            save_reporter_as_contact=data["save_reporter_as_contact"],
        ),
        _("Request %(number)s confirmed."),
    )


@login_required
@require_POST
def request_assign_customer(request, pk):
    return _request_action(
        request,
        pk,
        "assign_form",
        lambda r: AssignCustomerForm(request.POST, actor=request.user),
        lambda r, data: intake.assign_request_customer(
            r, actor=request.user, customer=data["customer"], equipment=data["equipment"]
        ),
        _("Customer recorded for request %(number)s."),
    )


@login_required
@require_POST
def request_resolve(request, pk):
    return _request_action(
        request,
        pk,
        "resolve_form",
        lambda r: ResolveRequestForm(request.POST),
        lambda r, data: intake.resolve_without_visit(r, actor=request.user, resolution=data["resolution"]),
        _("Request %(number)s resolved without a visit."),
    )


@login_required
@require_POST
def request_discard(request, pk):
    return _request_action(
        request,
        pk,
        "discard_form",
        lambda r: DiscardRequestForm(request.POST),
        lambda r, data: intake.discard_request(r, actor=request.user, reason=data["reason"]),
        _("Request %(number)s discarded."),
    )


@login_required
@require_POST
def request_create_order(request, pk):
    return _request_action(
        request,
        pk,
        "order_form",
        lambda r: WorkOrderCreateForm(request.POST, actor=request.user, service_request=r),
        lambda r, data: intake.create_work_order(r, actor=request.user, **data),
        _("Work order created for request %(number)s."),
    )


# Work orders ---------------------------------------------------------------------


def _search_orders(orders, text: str):
    text = (text or "").strip()
    if not text:
        return orders
    return orders.filter(
        Q(number__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(customer__code__icontains=text)
        | Q(equipment__serial_number__icontains=text)
        | Q(request__number__icontains=text)
    )


@login_required
def order_list(request):
    user = request.user
    require(can(user, Capability.VIEW_WORK_ORDERS))
    filter_form = ORDERS.filters(request, actor=user)
    filters = filter_form.filters()
    orders = _search_orders(selectors.work_orders_for(user), request.GET.get("q", ""))
    status = filters.pop("status", "")
    if status == TO_DISPATCH:
        orders = orders.filter(status__in=TO_DISPATCH_STATUSES)
    elif status:
        orders = orders.filter(status=status)
    orders = orders.filter(**filters)
    return ORDERS.render(
        request,
        "workorders/order_list.html",
        exports.prepare_orders(orders),
        filters=filter_form,
        context={"to_dispatch": TO_DISPATCH},
    )


def _order_context(request, order: WorkOrder, **forms) -> dict:
    user = request.user
    may_manage = may_manage_orders(user)
    may_work_on_order = may_work_on(user, order)
    allowed = set(lifecycle.allowed_transitions(order))
    context = {
        "order": order,
        "events": selectors.service_log(order),
        "panels": panels.render("workorders.order", request, order),
        "attachments": order.attachments.all(),
        "request_photos": order.request.attachments.filter(kind=AttachmentKind.PHOTO),
        "may_manage": may_manage,
        "dispatch_url": "",
        "report_url": "",
    }
    if can(user, Capability.DISPATCH) and Transition.DISPATCH in allowed:
        context["dispatch_url"] = _optional_url("dispatch:order", order.pk)
    if order.status in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED):
        context["report_url"] = _optional_url("field:report_pdf", order.pk)
    if may_work_on_order and Transition.HOLD in allowed:
        context["hold_form"] = forms.get("hold_form") or HoldForm()
    if may_work_on_order and Transition.RESUME in allowed:
        context["resume_form"] = forms.get("resume_form") or NoteForm()
    if may_manage and Transition.CANCEL in allowed:
        context["cancel_form"] = forms.get("cancel_form") or CancelForm()
    if may_manage and Transition.CLOSE in allowed:
        context["close_form"] = forms.get("close_form") or NoteForm()
    if can(user, Capability.VIEW_PARTS):
        context["needed_parts"] = list(order.needed_parts.select_related("part"))
        if may_manage and order.status not in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED):
            text = "\n".join(f"{row.part.part_number} {row.quantity.normalize()}" for row in context["needed_parts"])
            context["needed_parts_form"] = forms.get("needed_parts_form") or NeededPartsForm(initial={"parts": text})
    return context


@login_required
def order_detail(request, pk):
    order = selectors.get_work_order_for(request.user, pk)
    return render(request, "workorders/order_detail.html", _order_context(request, order))


def _order_action(request, pk, form_class, form_name: str, act, success: str):
    order = selectors.get_work_order_for(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(order, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("workorders:order_detail", pk=pk)
        else:
            messages.success(request, success % {"number": order.number})
            return redirect("workorders:order_detail", pk=pk)
    order.refresh_from_db()
    return render(request, "workorders/order_detail.html", _order_context(request, order, **{form_name: form}))


def _set_needed_parts(request, order: WorkOrder, lines: list[tuple[str, str]]) -> None:
    numbers = [number for number, _quantity in lines]
    found = {part.part_number: part for part in parts_for(request.user).filter(part_number__in=numbers)}
    unknown = [number for number in numbers if number not in found]
    if unknown:
        raise ValidationError({"parts": _("No part numbered %(number)s.") % {"number": ", ".join(unknown)}})
    try:
        needed_parts.set_needed_parts(
            order, actor=request.user, parts=[(found[number], quantity) for number, quantity in lines]
        )
    except ValidationError as error:
        # The service names the line (parts[2].quantity); the page has one box for the list.
        raise ValidationError({"parts": error.messages}) from error


@login_required
@require_POST
def order_needed_parts(request, pk):
    require(may_manage_orders(request.user))
    return _order_action(
        request,
        pk,
        NeededPartsForm,
        "needed_parts_form",
        lambda o, data: _set_needed_parts(request, o, data["parts"]),
        _("The needed parts of %(number)s are saved."),
    )


@login_required
@require_POST
def order_hold(request, pk):
    return _order_action(
        request,
        pk,
        HoldForm,
        "hold_form",
        lambda o, data: lifecycle.put_on_hold(
            o, actor=request.user, hold_reason=data["hold_reason"], note=data["note"]
        ),
        _("Work order %(number)s is on hold."),
    )


@login_required
@require_POST
def order_resume(request, pk):
    return _order_action(
        request,
        pk,
        NoteForm,
        "resume_form",
        lambda o, data: lifecycle.resume_work_order(o, actor=request.user, note=data["note"]),
        _("Work order %(number)s resumed."),
    )


@login_required
@require_POST
def order_cancel(request, pk):
    return _order_action(
        request,
        pk,
        CancelForm,
        "cancel_form",
        lambda o, data: lifecycle.cancel_work_order(o, actor=request.user, reason=data["reason"]),
        _("Work order %(number)s cancelled."),
    )


@login_required
@require_POST
def order_close(request, pk):
    return _order_action(
        request,
        pk,
        NoteForm,
        "close_form",
        lambda o, data: lifecycle.close_work_order(o, actor=request.user, note=data["note"]),
        _("Work order %(number)s closed."),
    )


# Attachments -----------------------------------------------------------------------

INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}


def attachment(request, pk):
    """Photos, signatures and documents are served through here, never from /media/."""
    # Not found rather than a redirect to the login page: an <img> cannot follow it, and the
    # answer must not tell an anonymous caller that the attachment exists.
    if not request.user.is_authenticated:
        raise Http404
    item = selectors.get_attachment_for(request.user, pk)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = item.content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        content_type=item.content_type if inline else "application/octet-stream",
        as_attachment=not inline or request.GET.get("download") == "1",
        filename=item.file.name.rsplit("/", 1)[-1],
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def contract_orders_panel(request, contract) -> str:
    """The work orders under a contract, a panel of the contract page (`core.panels`)."""
    orders = selectors.work_orders_for(request.user).filter(contract=contract).order_by("-created_at", "-pk")
    return render_to_string("workorders/_contract_orders.html", {"orders": orders}, request=request)
