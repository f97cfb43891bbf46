"""Pool pages: the engineer's phone page (/pool/) with a Grab button per offer, the dispatcher's
pool page (/pool/manage/), and the POST endpoints behind their buttons and the order page's
pool panel. Thin views: parse, call a service, redirect with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.pool import selectors, services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.forms import PublishForm, ReasonForm
from fieldservice.pool.permissions import may_manage_pool
from fieldservice.workorders.choices import TO_DISPATCH_STATUSES
from fieldservice.workorders.selectors import get_work_order_for

RECENT_EXPIRED = 50


def _require_grabber(user) -> None:
    require(selectors.is_grabber(user))


def _require_manager(user) -> None:
    require(may_manage_pool(user))


def _back(request, fallback: str, *args):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback, *args)


# The engineer's phone page ----------------------------------------------------------------------


@login_required
def pool(request):
    _require_grabber(request.user)
    context = {
        "rows": selectors.rows_for(request.user, selectors.offers_for(request.user)),
        "pending": selectors.my_pending_grabs(request.user).order_by("grabbed_at", "pk"),
        "now": timezone.now(),
    }
    return render(request, "pool/pool.html", context)


@login_required
@require_POST
def grab(request, pk: int):
    _require_grabber(request.user)
    offer = selectors.get_offer_for(request.user, pk)
    number = offer.work_order.number
    try:
        services.grab(offer, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("pool:list")
    if offer.requires_approval:
        messages.success(
            request, _("You grabbed work order %(number)s; a dispatcher will confirm it.") % {"number": number}
        )
        return redirect("pool:list")
    messages.success(request, _("Work order %(number)s is yours.") % {"number": number})
    return redirect("field:order", pk=offer.work_order_id)


# The dispatcher's pages -------------------------------------------------------------------------


@login_required
def manage(request):
    _require_manager(request.user)
    offers = selectors.offers_for(request.user)
    now = timezone.now()
    context = {
        "open_rows": selectors.rows_for(request.user, offers.filter(status=OfferStatus.OPEN).order_by("expires_at")),
        "pending": offers.filter(status=OfferStatus.GRABBED).order_by("grabbed_at", "pk"),
        "expired": offers.filter(status=OfferStatus.EXPIRED, work_order__status__in=TO_DISPATCH_STATUSES).order_by(
            "-expires_at", "-pk"
        )[:RECENT_EXPIRED],
        "reason_form": ReasonForm(),
        "now": now,
    }
    return render(request, "pool/manage.html", context)


@login_required
@require_POST
def publish(request, order_pk: int):
    _require_manager(request.user)
    order = get_work_order_for(request.user, order_pk)
    form = PublishForm(request.POST, actor=request.user)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _back(request, "dispatch:order", order.pk)
    data = form.cleaned_data
    try:
        services.publish_to_pool(
            order,
            actor=request.user,
            minutes=data["minutes"],
            requires_approval=data["requires_approval"],
            provider=data["provider"],
            note=data["note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Work order %(number)s is in the grab pool.") % {"number": order.number})
    return _back(request, "dispatch:order", order.pk)


def _decision(request, pk: int, act, success: str):
    _require_manager(request.user)
    offer = selectors.get_offer_for(request.user, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        act(offer, reason)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success % {"number": offer.work_order.number})
    return _back(request, "pool:manage")


@login_required
@require_POST
def approve(request, pk: int):
    return _decision(
        request,
        pk,
        lambda offer, _reason: services.approve_grab(offer, actor=request.user),
        _("Work order %(number)s given to the engineer who grabbed it."),
    )


@login_required
@require_POST
def decline(request, pk: int):
    return _decision(
        request,
        pk,
        lambda offer, reason: services.decline_grab(offer, actor=request.user, reason=reason),
        _("Grab of work order %(number)s declined."),
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    return _decision(
        request,
        pk,
        lambda offer, reason: services.withdraw_offer(offer, actor=request.user, reason=reason),
        _("Work order %(number)s taken out of the pool."),
    )
