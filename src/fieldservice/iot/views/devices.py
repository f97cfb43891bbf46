"""Pages of devices (the administrator's): the list, issuing a device (its customer first, then
that customer's machines), the device's page (its machines, when it was last heard from, the
messages of it refused) with revoke and rotate, changing it, and the messages refused by day.

A token is shown on the page that answers its issue or rotation, rendered and not redirected
(so it is kept nowhere, not even in the session), and never again."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing, paginate
from fieldservice.customers.models import Customer
from fieldservice.iot.choices import RejectReason
from fieldservice.iot.forms.devices import DeviceCustomerForm, DeviceFilterForm, DeviceForm, RejectionFilterForm
from fieldservice.iot.models import Device
from fieldservice.iot.permissions import may_manage_devices
from fieldservice.iot.selectors import devices as selectors
from fieldservice.iot.services import devices as services


def _state(device: Device) -> str:
    return _("Revoked") if device.revoked_at else _("Active")


DEVICES = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda d: d.name, link=lambda d: reverse("iot:device", args=[d.pk])),
        Column(gettext_lazy("Customer"), lambda d: d.customer.name),
        Column(gettext_lazy("Kind"), lambda d: d.get_kind_display()),
        Column(gettext_lazy("Token prefix"), lambda d: d.prefix),
        Column(gettext_lazy("Machines"), lambda d: d.machine_count),
        Column(gettext_lazy("Last seen"), lambda d: d.last_seen_at, date="SHORT_DATETIME_FORMAT", default="—"),
        Column(gettext_lazy("State"), _state, badge=lambda d: "bad" if d.revoked_at else "ok"),
        Column(gettext_lazy("Reports at least every (seconds)"), lambda d: d.expected_interval_seconds, page=False),
        Column(gettext_lazy("Created"), lambda d: d.created_at, page=False),
    ],
    filter_form=DeviceFilterForm,
    search=gettext_lazy("Name, token prefix, customer or serial number"),
    order=("name", "pk"),
    row_id="device",
    empty=gettext_lazy("No devices yet. Issue one for a machine, or a gateway serving several."),
    empty_filtered=gettext_lazy("No device matches these filters."),
    export_name="devices",
    export_title=gettext_lazy("Devices"),
)


def _manager(request) -> None:
    # Devices and their credentials are the administrator's; to anyone else there is nothing here.
    if not may_manage_devices(request.user):
        raise Http404


@login_required
def device_list(request):
    _manager(request)
    filters = DEVICES.filters(request)
    data = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    customer = data.get("customer")
    devices = selectors.filter_devices(
        selectors.devices_for(request.user),
        q=request.GET.get("q", ""),
        customer=customer.pk if customer else None,
        kind=data.get("kind", ""),
        state=data.get("state", ""),
    )
    return DEVICES.render(request, "iot/device_list.html", devices, filters=filters)


def _customer(request) -> Customer | None:
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    return Customer.objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def _shown_once(request, device: Device, token: str):
    """The device's page with its token, this once; never cached."""
    response = _detail(request, device, token=token)
    add_never_cache_headers(response)
    return response


@login_required
def device_create(request):
    _manager(request)
    customer = _customer(request)
    if customer is None:
        form = DeviceCustomerForm(request.GET if "customer" in request.GET else None)
        return render(request, "iot/device_customer.html", {"form": form})
    machines = selectors.machines_to_serve(request.user, customer)
    if request.method != "POST":
        form = DeviceForm(machines=machines)
        return render(request, "iot/device_form.html", {"form": form, "customer": customer})
    form = DeviceForm(request.POST, machines=machines)
    if form.is_valid():
        data = form.cleaned_data
        try:
            device, token = services.issue_device(
                actor=request.user,
                name=data["name"],
                customer=customer,
                machines=data["machines"],
                kind=data["kind"],
                expected_interval_seconds=data["expected_interval_seconds"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Device “%(name)s” issued.") % {"name": device.name})
            return _shown_once(request, selectors.get_device_for(request.user, device.pk), token)
    return render(request, "iot/device_form.html", {"form": form, "customer": customer})


@login_required
def device_edit(request, pk):
    device = selectors.get_device_for(request.user, pk)
    machines = selectors.machines_to_serve(request.user, device.customer)
    initial = {
        "name": device.name,
        "machines": list(device.machines.values_list("pk", flat=True)),
        "expected_interval_seconds": device.expected_interval_seconds,
    }
    if request.method != "POST":
        form = DeviceForm(initial=initial, machines=machines, with_kind=False)
        return render(request, "iot/device_form.html", {"form": form, "customer": device.customer, "device": device})
    form = DeviceForm(request.POST, machines=machines, with_kind=False)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_device(
                device,
                actor=request.user,
                name=data["name"],
                machines=data["machines"],
                expected_interval_seconds=data["expected_interval_seconds"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Device “%(name)s” saved.") % {"name": device.name})
            return redirect("iot:device", pk=device.pk)
    return render(request, "iot/device_form.html", {"form": form, "customer": device.customer, "device": device})


def _detail(request, device: Device, token: str | None = None):
    rejections = selectors.rejections_for(request.user, prefix=device.prefix)
    totals = selectors.rejection_totals(rejections)
    labels = dict(RejectReason.choices)
    now = timezone.now()
    machines = list(selectors.machines_of(device))
    for machine in machines:
        presence = getattr(machine, "presence", None)
        machine.iot_last_seen = presence.last_seen_at if presence else None
        machine.iot_online = bool(
            presence and now - presence.last_seen_at <= dt.timedelta(seconds=presence.expected_interval_seconds)
        )
    return render(
        request,
        "iot/device_detail.html",
        {
            "device": device,
            "machines": machines,
            "new_token": token,
            "rejection_totals": [(labels.get(reason, reason), count) for reason, count in sorted(totals.items())],
            "rejections": rejections[:30],
        },
    )


@login_required
def device_detail(request, pk):
    return _detail(request, selectors.get_device_for(request.user, pk))


@login_required
@require_POST
def device_revoke(request, pk):
    device = selectors.get_device_for(request.user, pk)
    try:
        services.revoke_device(device, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The device's credentials are revoked: its messages are refused from now on."))
    return redirect("iot:device", pk=device.pk)


@login_required
@require_POST
def device_rotate(request, pk):
    device = selectors.get_device_for(request.user, pk)
    try:
        token = services.rotate_token(device, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("iot:device", pk=device.pk)
    messages.success(request, _("A new token is issued: the old one no longer works."))
    return _shown_once(request, selectors.get_device_for(request.user, device.pk), token)


@login_required
def rejection_list(request):
    """The messages refused, per day, door, reason and the device prefix they claimed."""
    _manager(request)
    filters = RejectionFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    rejections = selectors.rejections_for(request.user)
    if data.get("door"):
        rejections = rejections.filter(door=data["door"])
    if data.get("reason"):
        rejections = rejections.filter(reason=data["reason"])
    if data.get("q"):
        rejections = rejections.filter(device_prefix__startswith=data["q"].strip())
    page = paginate(request, rejections, 50)
    rows = list(page.object_list)
    names = selectors.device_names(row.device_prefix for row in rows)
    for row in rows:
        row.device = names.get(row.device_prefix)
    return render(
        request,
        "iot/rejection_list.html",
        {"page": page, "rows": rows, "filters": filters, "filtered": bool(data and any(data.values()))},
    )


urlpatterns = [
    path("devices/", device_list, name="devices"),
    path("devices/new/", device_create, name="device_create"),
    path("devices/rejected/", rejection_list, name="rejections"),
    path("devices/<int:pk>/", device_detail, name="device"),
    path("devices/<int:pk>/edit/", device_edit, name="device_edit"),
    path("devices/<int:pk>/revoke/", device_revoke, name="device_revoke"),
    path("devices/<int:pk>/rotate/", device_rotate, name="device_rotate"),
]
