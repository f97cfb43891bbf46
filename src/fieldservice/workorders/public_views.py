"""The fault report from a machine's public QR page. No login; the page never shows whose
machine it is, and neither does anything here."""

import hmac
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldservice.accounts.selectors import own_company
from fieldservice.assets.selectors import equipment_by_public_token
from fieldservice.core import panels
from fieldservice.core.clients import client_address
from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.core.validation import normalise_phone
from fieldservice.workorders.forms import QrReportForm
from fieldservice.workorders.selectors import request_by_follow_token
from fieldservice.workorders.services import intake


def follow_url(service_request) -> str:
    """The customer's private link to follow the request, absolute because it is sent to a
    phone; empty while the portal has no such page."""
    try:
        path = reverse("portal:follow", args=[service_request.follow_token])
    except NoReverseMatch:
        return ""
    return settings.FSM_PUBLIC_BASE_URL.rstrip("/") + path


def _page_context(equipment) -> dict:
    # The same as the machine's public page (assets.views.public_equipment).
    company = own_company()
    return {
        "equipment": equipment,
        "product_model": equipment.product_model,
        "company_name": settings.FSM_COMPANY_NAME or (company.name if company else _("Customer service")),
        "service_phone": company.phone if company else "",
    }


def _equipment_or_none(token):
    try:
        return equipment_by_public_token(token)
    except Http404:
        return None


SESSION_CODES = "qr_phone_codes"
CODE_TRIES = 5


def _remember_code(request, phone: str, digest: str) -> None:
    codes = request.session.get(SESSION_CODES, {})
    codes[phone] = {"digest": digest, "until": time.time() + intake.PHONE_CODE_MINUTES * 60, "tries": 0}
    request.session[SESSION_CODES] = codes


def _code_matches(request, phone: str, code: str) -> bool:
    """Whether `code` is the one sent to `phone` in this browser session, still valid and not
    guessed at too often."""
    codes = request.session.get(SESSION_CODES, {})
    entry = codes.get(phone)
    if not entry or entry["until"] < time.time() or entry["tries"] >= CODE_TRIES:
        return False
    entry["tries"] += 1
    request.session[SESSION_CODES] = codes
    if not hmac.compare_digest(entry["digest"], intake.phone_code_digest(phone, code)):
        return False
    del codes[phone]  # one report per code
    request.session[SESSION_CODES] = codes
    return True


@require_POST
def report(request, token):
    equipment = _equipment_or_none(token)
    if equipment is None:
        return render(request, "assets/public_unknown.html", status=404)
    form = QrReportForm(request.POST, request.FILES)
    status = 200
    ip = client_address(request)
    if request.POST.get("send_code"):
        form.offer_code(sent=False)
        try:
            phone, digest = intake.issue_phone_code(equipment, phone=request.POST.get("phone", ""), ip=ip)
        except ValidationError as error:
            add_service_errors(form, error)
            status = 409 if not equipment.is_registered else 200
        except DomainError as error:
            form.add_error(None, error.message)
            status = 429 if error.code == "rate_limited" else 409
        else:
            _remember_code(request, phone, digest)
            form.offer_code(sent=True)
        form.errors.pop("code", None)
    elif form.is_valid():
        code = form.cleaned_data["code"].strip()
        verified = False
        if code:
            try:
                phone = normalise_phone(form.cleaned_data["phone"], field="phone")
            except ValidationError:
                phone = ""
            verified = bool(phone) and _code_matches(request, phone, code)
            if not verified:
                form.offer_code(sent=True)
                form.add_error("code", _("This code is wrong or no longer valid."))
        if not form.errors:
            try:
                service_request = intake.report_fault_by_qr(
                    equipment,
                    phone=form.cleaned_data["phone"],
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    photos=form.cleaned_data["photos"],
                    ip=ip,
                    phone_verified=verified,
                )
            except ValidationError as error:
                add_service_errors(form, error)
                if not equipment.is_registered:
                    status = 409
            except DomainError as error:
                form.add_error(None, error.message)
                if error.code == "rate_limited":
                    status = 429
                    if intake.phone_codes_can_be_sent():
                        form.offer_code(sent=False)
                else:
                    status = 409
            else:
                return redirect(
                    "public:reported", token=equipment.public_token, follow_token=service_request.follow_token
                )
    elif not equipment.is_registered:
        status = 409
    context = {
        **_page_context(equipment),
        "form": form,
        "panels": panels.render("assets.public_equipment", request, equipment),
    }
    return render(request, "assets/public_equipment.html", context, status=status)


def reported(request, token, follow_token):
    """Thank-you page after the redirect: the number and the private follow link."""
    equipment = _equipment_or_none(token)
    if equipment is None:
        return render(request, "assets/public_unknown.html", status=404)
    service_request = request_by_follow_token(follow_token)
    if service_request.equipment_id != equipment.pk:
        raise Http404
    return render(
        request,
        "workorders/public_reported.html",
        {**_page_context(equipment), "service_request": service_request, "follow_url": follow_url(service_request)},
    )
