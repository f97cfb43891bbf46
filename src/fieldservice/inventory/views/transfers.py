"""The keeper's pages of requisitions, transfers and returns: one list, a detail page with the
moves the user may make, and a form to move stock between warehouses or fill an engineer's stock."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import TransferKind, TransferStatus, WarehouseKind
from fieldservice.inventory.forms import (
    ApproveForm,
    CancelForm,
    ReasonForm,
    ShipForm,
    TransferCreateForm,
    TransferFilterForm,
    TransferReceiveForm,
)
from fieldservice.inventory.models import Transfer
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.transfers import STORES

OPEN = (TransferStatus.REQUESTED, TransferStatus.APPROVED)

TRANSFERS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda t: t.number,
            link=lambda t: reverse("inventory:transfer_detail", args=[t.pk]),
        ),
        Column(gettext_lazy("Kind"), lambda t: t.get_kind_display()),
        Column(
            gettext_lazy("Status"),
            lambda t: t.get_status_display(),
            badge=lambda t: {"received": "ok", "rejected": "bad", "cancelled": ""}.get(t.status, "warn"),
        ),
        Column(gettext_lazy("From"), lambda t: t.source.name),
        Column(gettext_lazy("To"), lambda t: t.destination.name),
        Column(
            gettext_lazy("Urgent"),
            lambda t: t.urgent,
            cell="inventory/_urgent_cell.html",
        ),
        Column(gettext_lazy("Work order"), lambda t: t.work_order_number, default="—"),
        Column(gettext_lazy("Requested by"), lambda t: str(t.requested_by) if t.requested_by_id else "", default="—"),
        Column(gettext_lazy("Requested at"), lambda t: t.requested_at, date="Y-m-d H:i"),
        Column(gettext_lazy("Shipped at"), lambda t: t.shipped_at, date="Y-m-d H:i", default="—"),
        Column(gettext_lazy("Received at"), lambda t: t.received_at, date="Y-m-d H:i", default="—"),
    ],
    filter_form=TransferFilterForm,
    search=gettext_lazy("Number or work order number"),
    order=("-requested_at", "-pk"),
    row_id="transfer",
    empty=gettext_lazy("No requisitions, transfers or returns yet."),
    empty_filtered=gettext_lazy("No document matches these filters."),
    export_name="transfers",
    export_title=gettext_lazy("Transfers"),
)


def _require_desk(user) -> None:
    require(can(user, Capability.VIEW_STOCK))


@login_required
def transfer_list(request):
    _require_desk(request.user)
    filters = TRANSFERS.filters(request, warehouses=selectors.warehouses_for(request.user).order_by("name"))
    transfers = selectors.filter_transfers(
        selectors.transfers_for(request.user), q=request.GET.get("q", ""), **(filters.filters() if filters else {})
    )
    return TRANSFERS.render(
        request,
        "inventory/transfer_list.html",
        transfers,
        filters=filters,
        context={"may_create": can(request.user, Capability.MANAGE_STOCK)},
    )


def may(user, transfer: Transfer, verb: str) -> bool:
    """Whether `user` may make this move on `transfer` in whatever state it is (the services' rules)."""
    if verb == "approve":
        return may_operate(user, transfer.source)
    if verb == "reject":
        return may_operate(user, transfer.destination if transfer.kind == TransferKind.RETURN else transfer.source)
    if verb == "cancel":
        return transfer.requested_by_id == user.pk or may_operate(user, transfer.source)
    if verb == "ship":
        return services.may_ship(user, transfer)
    return services.may_receive(user, transfer)


# The states each move starts from (a return starts approved: it is rejected from there).
MOVES_FROM = {
    "approve": (TransferStatus.REQUESTED,),
    "reject": (TransferStatus.REQUESTED, TransferStatus.APPROVED),
    "cancel": OPEN,
    "ship": (TransferStatus.APPROVED,),
    "receive": (TransferStatus.SHIPPED,),
}


def actions_of(user, transfer: Transfer) -> dict[str, bool]:
    """What `user` may do to `transfer` now."""
    actions = {verb: transfer.status in states and may(user, transfer, verb) for verb, states in MOVES_FROM.items()}
    if transfer.kind == TransferKind.RETURN:
        actions["approve"] = False
    else:
        actions["reject"] = actions["reject"] and transfer.status == TransferStatus.REQUESTED
    return actions


def _lines(transfer: Transfer):
    return list(transfer.lines.select_related("part", "defect").prefetch_related("units").order_by("pk"))


def _detail(request, transfer: Transfer, status: int = 200, **forms):
    lines = _lines(transfer)
    actions = actions_of(request.user, transfer)
    context = {
        "transfer": transfer,
        "lines": lines,
        "actions": actions,
        "approve_form": forms.get("approve_form") or (ApproveForm(lines=lines) if actions["approve"] else None),
        "reject_form": forms.get("reject_form") or (ReasonForm(prefix="reject") if actions["reject"] else None),
        "cancel_form": forms.get("cancel_form") or (CancelForm(prefix="cancel") if actions["cancel"] else None),
        "ship_form": forms.get("ship_form")
        or (ShipForm(lines=lines, initial={"delivery": transfer.delivery}) if actions["ship"] else None),
        "receive_form": forms.get("receive_form") or (TransferReceiveForm(lines=lines) if actions["receive"] else None),
    }
    return render(request, "inventory/transfer_detail.html", context, status=status)


@login_required
def transfer_detail(request, pk):
    transfer = selectors.get_transfer_for(request.user, pk)
    _require_desk(request.user)
    return _detail(request, transfer)


def _move(request, transfer, form_key: str, form, call, success: str):
    """One move from the detail page: the service's field errors go on the form, a refused move
    (already done, by someone else or a second click) is said at the top and changes nothing."""
    if form.is_valid():
        try:
            call(form)
        except ValidationError as error:
            add_service_errors(form, error, getattr(form, "aliases", None))
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("inventory:transfer_detail", transfer.pk)
        else:
            messages.success(request, success % {"number": transfer.number})
            return redirect("inventory:transfer_detail", transfer.pk)
    transfer.refresh_from_db()
    return _detail(request, transfer, status=422, **{form_key: form})


def _for_move(request, pk, verb: str) -> Transfer:
    transfer = selectors.get_transfer_for(request.user, pk)
    _require_desk(request.user)
    require(may(request.user, transfer, verb))
    return transfer


@login_required
@require_POST
def transfer_approve(request, pk):
    transfer = _for_move(request, pk, "approve")
    form = ApproveForm(request.POST, lines=_lines(transfer))
    return _move(
        request,
        transfer,
        "approve_form",
        form,
        lambda f: services.approve_transfer(transfer, actor=request.user, quantities=f.quantities()),
        _("%(number)s approved: the parts are reserved."),
    )


@login_required
@require_POST
def transfer_reject(request, pk):
    transfer = _for_move(request, pk, "reject")
    return _move(
        request,
        transfer,
        "reject_form",
        ReasonForm(request.POST, prefix="reject"),
        lambda f: services.reject_transfer(transfer, actor=request.user, reason=f.cleaned_data["reason"]),
        _("%(number)s rejected."),
    )


@login_required
@require_POST
def transfer_cancel(request, pk):
    transfer = _for_move(request, pk, "cancel")
    return _move(
        request,
        transfer,
        "cancel_form",
        CancelForm(request.POST, prefix="cancel"),
        lambda f: services.cancel_transfer(transfer, actor=request.user, reason=f.cleaned_data["reason"]),
        _("%(number)s cancelled."),
    )


def ship(transfer, user, form):
    data = form.cleaned_data
    return services.ship_transfer(
        transfer,
        actor=user,
        delivery=data["delivery"],
        carrier=data.get("carrier", ""),
        tracking_number=data.get("tracking_number", ""),
        serials=form.serials(),
    )


@login_required
@require_POST
def transfer_ship(request, pk):
    transfer = _for_move(request, pk, "ship")
    return _move(
        request,
        transfer,
        "ship_form",
        ShipForm(request.POST, lines=_lines(transfer)),
        lambda f: ship(transfer, request.user, f),
        _("%(number)s shipped."),
    )


def receive(transfer, user, form):
    return services.receive_transfer(transfer, actor=user, quantities=form.quantities(), missing=form.missing())


@login_required
@require_POST
def transfer_receive(request, pk):
    transfer = _for_move(request, pk, "receive")
    return _move(
        request,
        transfer,
        "receive_form",
        TransferReceiveForm(request.POST, lines=_lines(transfer)),
        lambda f: receive(transfer, request.user, f),
        _("%(number)s received."),
    )


@login_required
def transfer_create(request):
    require(can(request.user, Capability.MANAGE_STOCK))
    places = selectors.warehouses_for(request.user).filter(is_active=True).order_by("kind", "name")
    form = TransferCreateForm(
        request.POST or None,
        sources=places.filter(kind__in=STORES),
        destinations=places.exclude(kind=WarehouseKind.TRANSIT),
    )
    if request.method == "POST" and form.is_valid():
        lines, aliases = form.clean_lines(selectors.parts_for(request.user))
        if form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.request_transfer(
                    actor=request.user,
                    kind=data["kind"],
                    source=data["source"],
                    destination=data["destination"],
                    lines=lines,
                    urgent=data["urgent"],
                    note=data["note"],
                    delivery=data["delivery"],
                    work_order_number=data["work_order_number"],
                )
            except ValidationError as error:
                add_service_errors(form, error, aliases)
            else:
                messages.success(request, _("%(number)s requested.") % {"number": transfer.number})
                return redirect("inventory:transfer_detail", transfer.pk)
    return render(request, "inventory/transfer_form.html", {"form": form})


def order_requisitions(request, order) -> str:
    """The requisitions of parts for a work order, a panel of the work order page (`core.panels`):
    shown to those who see stock, scoped to the warehouses they see."""
    if not request.user.is_authenticated or not can(request.user, Capability.VIEW_STOCK):
        return ""
    transfers = list(
        selectors.transfers_for(request.user)
        .filter(kind=TransferKind.REQUISITION, work_order_id=order.pk)
        .prefetch_related("lines__part")
    )
    if not transfers:
        return ""
    return render_to_string("inventory/_order_requisitions.html", {"transfers": transfers}, request=request)
