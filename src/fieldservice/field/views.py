"""The engineer's phone pages (/m/). Each step is one POST form calling one field service; a
refusal is shown on the order page and changes nothing."""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.events import action_label
from fieldservice.core.forms import add_service_errors
from fieldservice.dispatch.assignments.selectors import get_assignment_for
from fieldservice.dispatch.assignments.services import accept_assignment, reject_assignment
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.field import selectors, services
from fieldservice.field.forms import LocationForm, PartForm, PhotoForm, RejectForm, SignatureForm, WorkForm
from fieldservice.field.permissions import may_download_report
from fieldservice.field.report import render_service_report
from fieldservice.inventory.selectors import parts_for, units_in, van_of, van_stock
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import get_work_order_for, service_log

S = WorkOrderStatus
PART_OPTIONS_LIMIT = 50
SERVICE_LOG_PARTIAL = "workorders/_service_log.html"


def _require_field(user) -> None:
    require(can(user, Capability.WORK_IN_FIELD))


def map_links(site) -> dict:
    """Navigation links for a site: AMap (works in China's browsers and apps) and a geo: URI."""
    if site is None:
        return {}
    if site.latitude is not None and site.longitude is not None:
        lat, lng = site.latitude.normalize(), site.longitude.normalize()
        query = urlencode({"position": f"{lng},{lat}", "name": site.name}, quote_via=quote, safe=",")
        return {
            "amap": f"https://uri.amap.com/marker?{query}",
            "geo": f"geo:{lat},{lng}?q={lat},{lng}({quote(site.name)})",
        }
    if site.address:
        return {
            "amap": "https://uri.amap.com/search?" + urlencode({"keyword": site.full_address}, quote_via=quote),
            "geo": f"geo:0,0?q={quote(site.full_address)}",
        }
    return {}


def _card(assignment):
    order = assignment.work_order
    contact = selectors.contact_of(order)
    return {"assignment": assignment, "order": order, "contact": contact, "maps": map_links(order.site)}


@login_required
def today(request):
    _require_field(request.user)
    lists = selectors.today_for(request.user)
    context = {
        "offered": [_card(a) for a in lists.offered],
        "working": [_card(a) for a in lists.working],
        "done_today": [_card(a) for a in lists.done_today],
        "reject_form": RejectForm(),
        # Apps above field add their links to the engineer's home (billing: his statements).
        "links": panels.render("field.today", request, request.user),
    }
    return render(request, "field/today.html", context)


@login_required
@require_POST
def accept(request, pk):
    _require_field(request.user)
    assignment = get_assignment_for(request.user, pk)
    try:
        accept_assignment(assignment, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("field:today")
    messages.success(request, _("You accepted work order %(number)s.") % {"number": assignment.work_order.number})
    return redirect("field:order", pk=assignment.work_order_id)


@login_required
@require_POST
def reject(request, pk):
    _require_field(request.user)
    assignment = get_assignment_for(request.user, pk)
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        reject_assignment(assignment, actor=request.user, reason=reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You rejected work order %(number)s.") % {"number": assignment.work_order.number})
    return redirect("field:today")


# The order page -----------------------------------------------------------------------------------------


def _timeline(order: WorkOrder) -> list[dict]:
    return [
        {"event": event, "label": action_label(event.action)}
        for event in service_log(order).order_by("-at", "-pk")[:50]
    ]


def _shared_log_partial() -> bool:
    """Whether the work orders app's service log partial is there to include (else our own list)."""
    try:
        get_template(SERVICE_LOG_PARTIAL)
    except (TemplateDoesNotExist, TemplateSyntaxError):
        return False
    return True


def _part_options(request, order: WorkOrder, form=None) -> dict:
    """The part picker: the machine's BOM first; the rest of the catalogue by search (listed
    without one only when there is no BOM to offer)."""
    text = (request.GET.get("part_q") or request.POST.get("part_q") or "").strip()
    bom = list(selectors.bom_parts_for_order(request.user, order))
    others = []
    if text or not bom:
        matches = parts_for(request.user, text).filter(is_active=True).exclude(pk__in=[part.pk for part in bom])
        others = list(matches[:PART_OPTIONS_LIMIT])
    if not text:
        label = _("Parts catalogue")
    elif bom:
        label = _("Other parts matching “%(text)s”") % {"text": text}
    else:
        label = _("Parts matching “%(text)s”") % {"text": text}
    stock = _van_stock(request.user)
    held = {row["part"].pk for row in stock}
    wanted = [part for part in [*bom, *others] if part.pk not in held]
    tried = getattr(form, "cleaned_data", {}).get("part") if form is not None else None
    if tried is not None and tried not in wanted and (tried.pk not in held or "quantity" in form.errors):
        wanted.insert(0, tried)  # the part he just could not record: he carries too few
    return {
        "part_q": text,
        "bom_parts": bom,
        "other_parts": others,
        "other_parts_label": label,
        "van_stock": stock,
        "request_links": [{"part": part, "url": _request_url(order, part)} for part in wanted],
    }


def _van_stock(user) -> list[dict]:
    """What the engineer carries, by part: the quantity free to use, and the lots and serials held."""
    van = van_of(user)
    rows: dict[int, dict] = {}
    for balance in van_stock(van):
        row = rows.setdefault(balance.part_id, {"part": balance.part, "available": 0, "lots": [], "serials": []})
        row["available"] += balance.available
        if balance.lot:
            row["lots"].append({"lot": balance.lot, "available": balance.available})
    for unit in units_in(van):
        if unit.part_id in rows:
            rows[unit.part_id]["serials"].append(unit.serial)
    return list(rows.values())


def _request_url(order: WorkOrder, part) -> str:
    """The requisition phone page for a part the engineer does not carry (built by inventory)."""
    base = reverse("inventory:van_request")
    return f"{base}?{urlencode({'order': order.pk, 'number': order.number, 'part': part.pk})}"


def _order_page(request, order: WorkOrder, forms: dict | None = None):
    forms = forms or {}
    assignment = selectors.assignment_of(request.user, order)
    accepted = assignment is not None and assignment.status == AssignmentStatus.ACCEPTED
    check_in_event = selectors.last_check_in(order)
    log_partial = SERVICE_LOG_PARTIAL if _shared_log_partial() else None
    context = {
        "order": order,
        "assignment": assignment,
        "accepted": accepted,
        "offered": assignment is not None and assignment.status == AssignmentStatus.OFFERED,
        "can_travel": accepted and order.status == S.ACCEPTED,
        "can_check_in": accepted and order.status in (S.ACCEPTED, S.TRAVELLING),
        "on_site": accepted and order.status == S.ON_SITE,
        "has_work_record": selectors.has_work_record(order),
        "report_ready": order.status in (S.COMPLETED, S.CLOSED),
        "contact": selectors.contact_of(order),
        "maps": map_links(order.site),
        "check_in": check_in_event,
        "reject_form": forms.get("reject") or RejectForm(),
        "travel_form": forms.get("travel") or LocationForm(prefix="travel"),
        "check_in_form": forms.get("check_in") or LocationForm(prefix="checkin"),
        "work_form": forms.get("work")
        or WorkForm(
            initial={
                "resolution_type": order.resolution_type,
                "fault_cause": order.fault_cause,
                "actions_taken": order.actions_taken,
                "labour_hours": order.labour_hours,
            }
        ),
        "part_form": forms.get("part") or PartForm(actor=request.user, order=order),
        **_part_options(request, order, forms.get("part")),
        "photo_form": forms.get("photo") or PhotoForm(),
        "signature_form": forms.get("signature") or SignatureForm(),
        "fitted_parts": list(selectors.fitted_parts_for_order(order)),
        "usages": list(selectors.part_usages_of(order)),
        "photos": list(selectors.photos_of(order)),
        "signature": selectors.signature_of(order),
        "service_log_partial": log_partial,
        "events": service_log(order) if log_partial else None,
        "timeline": [] if log_partial else _timeline(order),
        # Apps above field add their parts of the job here (billing: the fee lines, the quotation).
        "panels": panels.render("field.order", request, order),
        "needs_signature": order.resolution_type != "remote_fix",
        **_steps_context(order),
    }
    return render(request, "field/order.html", context)


def _steps_context(order: WorkOrder) -> dict:
    steps = list(selectors.steps_of(order))
    return {
        "job_steps": steps,
        "steps_done": sum(1 for step in steps if step.answered_at is not None),
        "open_required": sum(1 for step in steps if step.required and step.answered_at is None),
    }


@login_required
def order_detail(request, pk):
    _require_field(request.user)
    order = selectors.get_field_order_for(request.user, pk)
    return _order_page(request, order)


def _step(request, pk, *, form_key: str, form, call, success, aliases=None):
    """Run one step: parse `form`, call the service, redirect with a message on success; on a
    field error show the page with the form's errors; on an illegal move say why."""
    _require_field(request.user)
    order = selectors.get_field_order_for(request.user, pk)
    form = form(order)
    if form.is_valid():
        try:
            result = call(order, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error, aliases)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("field:order", pk=order.pk)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect("field:order", pk=order.pk)
    return _order_page(request, order, {form_key: form})


def _location_kwargs(data: dict) -> dict:
    return {"latitude": data.get("latitude") or None, "longitude": data.get("longitude") or None}


@login_required
@require_POST
def start_travel(request, pk):
    return _step(
        request,
        pk,
        form_key="travel",
        form=lambda order: LocationForm(request.POST, prefix="travel"),
        call=lambda order, data: services.start_travel(order, actor=request.user, **_location_kwargs(data)),
        success=_("Travel started. Check in when you arrive."),
    )


def _checked_in_message(order: WorkOrder) -> str:
    event = selectors.last_check_in(order)
    payload = event.payload if event else {}
    if payload.get("location_missing"):
        return _("Checked in without a location.")
    if payload.get("distance_km") is not None:
        return _("Checked in %(distance)s km from the site.") % {"distance": f"{payload['distance_km']:.1f}"}
    return _("Checked in.")


@login_required
@require_POST
def check_in(request, pk):
    return _step(
        request,
        pk,
        form_key="check_in",
        form=lambda order: LocationForm(request.POST, prefix="checkin"),
        call=lambda order, data: services.check_in(
            order,
            actor=request.user,
            accuracy=data.get("accuracy") or None,
            location_error=data.get("location_error", ""),
            **_location_kwargs(data),
        ),
        success=_checked_in_message,
    )


@login_required
@require_POST
def record_work(request, pk):
    return _step(
        request,
        pk,
        form_key="work",
        form=lambda order: WorkForm(request.POST),
        call=lambda order, data: services.record_work(order, actor=request.user, **data),
        success=_("Work recorded."),
    )


@login_required
@require_POST
def use_part(request, pk):
    return _step(
        request,
        pk,
        form_key="part",
        form=lambda order: PartForm(request.POST, actor=request.user, order=order),
        call=lambda order, data: services.use_part(
            order,
            actor=request.user,
            part=data.get("part"),
            quantity=data.get("quantity"),
            replaces=data.get("replaces"),
            new_serial=data.get("new_serial", ""),
            lot=data.get("lot", ""),
        ),
        success=lambda usage: _("Part %(part)s recorded.") % {"part": usage.part.part_number},
        aliases={"serial": "new_serial", "unit": "new_serial"},
    )


@login_required
@require_POST
def remove_part(request, pk, usage_pk):
    _require_field(request.user)
    order = selectors.get_field_order_for(request.user, pk)
    usage = get_object_or_404(selectors.part_usages_of(order), pk=usage_pk)
    try:
        services.remove_part_usage(usage, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Part entry removed."))
    return redirect("field:order", pk=order.pk)


def _add_photos(order, data, user):
    # All or nothing: one bad file among several keeps none, and the error names it.
    with transaction.atomic():
        return [services.add_photo(order, actor=user, file=photo) for photo in data["photos"]]


@login_required
@require_POST
def add_photos(request, pk):
    return _step(
        request,
        pk,
        form_key="photo",
        form=lambda order: PhotoForm(request.POST, request.FILES),
        call=lambda order, data: _add_photos(order, data, request.user),
        success=lambda added: ngettext("%(n)d photo added.", "%(n)d photos added.", len(added)) % {"n": len(added)},
        aliases={"file": "photos"},
    )


@login_required
@require_POST
def capture_signature(request, pk):
    return _step(
        request,
        pk,
        form_key="signature",
        form=lambda order: SignatureForm(request.POST),
        call=lambda order, data: services.capture_signature(
            order, actor=request.user, image_file=data["signature"], signer_name=data["signer_name"]
        ),
        success=_("Signature saved."),
        aliases={"image": "signature"},
    )


@login_required
@require_POST
def complete(request, pk):
    _require_field(request.user)
    order = selectors.get_field_order_for(request.user, pk)
    try:
        services.complete_visit(order, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Visit completed. Thank you!"))
    return redirect("field:order", pk=order.pk)


@login_required
def report_pdf(request, pk):
    """The service report of a completed visit, for staff and the order's engineers."""
    order = get_work_order_for(request.user, pk)
    if not may_download_report(request.user, order):
        raise Http404
    if order.status not in selectors.REPORT_STATUSES:
        return render(request, "field/report_not_ready.html", {"order": order}, status=409)
    response = HttpResponse(render_service_report(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="service-report-{order.number}.pdf"'
    return response
