"""The engineer's phone pages of his own stock: what he holds, asking a warehouse for parts,
confirming what arrived, and sending parts (good ones and the defective ones he owes) back.

He sees his own van and the documents to or from it only; someone else's is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.validation import parse_id
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import DefectStatus, Grade, TransferKind, TransferStatus
from fieldservice.inventory.forms import CancelForm, ShipForm, TransferReceiveForm, VanRequestForm, VanReturnForm
from fieldservice.inventory.models import Transfer
from fieldservice.inventory.views.transfers import receive, ship


def _require_engineer(user) -> None:
    require(can(user, Capability.REQUEST_PARTS))


@login_required
def my_stock(request):
    _require_engineer(request.user)
    balances = list(selectors.van_stock_of(request.user))
    context = {
        "van": selectors.van_of(request.user),
        "good": [b for b in balances if b.grade == Grade.GOOD],
        "defective": [b for b in balances if b.grade == Grade.DEFECTIVE],
        "owed": list(selectors.owed_by(request.user).filter(status=DefectStatus.OWED)),
    }
    return render(request, "inventory/van_stock.html", context)


@login_required
def request_parts(request):
    _require_engineer(request.user)
    initial = {"order": request.GET.get("order", ""), "number": request.GET.get("number", "")[:32]}
    # From the job's parts form: the part he does not carry, one of it, on the first line.
    asked = parse_id(request.GET.get("part"))
    part = selectors.parts_for(request.user).filter(pk=asked).first() if asked else None
    if part is not None:
        initial.update({"part_0": part.part_number, "quantity_0": "1", "urgent": True})
    form = VanRequestForm(request.POST or None, initial=initial, sources=selectors.request_sources_for(request.user))
    if request.method == "POST" and form.is_valid():
        lines, aliases = form.clean_lines(selectors.parts_for(request.user))
        if form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.request_transfer(
                    actor=request.user,
                    kind=TransferKind.REQUISITION,
                    source=data["source"],
                    destination=services.van_for(request.user),
                    lines=lines,
                    urgent=data["urgent"],
                    note=data["note"],
                    work_order_id=parse_id(data["order"]),
                    work_order_number=data["number"],
                )
            except ValidationError as error:
                add_service_errors(form, error, {**aliases, "destination": None})
            else:
                messages.success(request, _("%(number)s sent to the warehouse.") % {"number": transfer.number})
                return redirect("inventory:van_requests")
    return render(request, "inventory/van_request.html", {"form": form})


def _cards(user, transfers, bound: dict | None = None) -> list[dict]:
    """Each document with the forms of what the engineer may do to it now."""
    cards = []
    for transfer in transfers:
        lines = list(transfer.lines.select_related("part", "defect").prefetch_related("units").order_by("pk"))
        card = {"transfer": transfer, "lines": lines}
        if transfer.status == TransferStatus.SHIPPED and services.may_receive(user, transfer):
            card["receive_form"] = TransferReceiveForm(lines=lines, prefix=f"t{transfer.pk}")
        if transfer.status == TransferStatus.APPROVED and services.may_ship(user, transfer):
            card["ship_form"] = ShipForm(lines=lines, prefix=f"t{transfer.pk}", initial={"delivery": "collect"})
        if (
            transfer.status in (TransferStatus.REQUESTED, TransferStatus.APPROVED)
            and transfer.requested_by_id == user.pk
        ):
            card["may_cancel"] = True
        if bound and bound["pk"] == transfer.pk:
            card[bound["key"]] = bound["form"]
        cards.append(card)
    return cards


def _requests_page(request, bound: dict | None = None, status: int = 200):
    transfers = list(selectors.van_transfers_for(request.user)[:50])
    return render(
        request, "inventory/van_requests.html", {"cards": _cards(request.user, transfers, bound)}, status=status
    )


@login_required
def my_requests(request):
    _require_engineer(request.user)
    return _requests_page(request)


def _own(request, pk) -> Transfer:
    _require_engineer(request.user)
    return selectors.get_van_transfer_for(request.user, pk)


def _step(request, transfer: Transfer, key: str, form, call, success: str):
    if form.is_valid():
        try:
            call(form)
        except ValidationError as error:
            add_service_errors(form, error, form.aliases)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("inventory:van_requests")
        else:
            messages.success(request, success % {"number": transfer.number})
            return redirect("inventory:van_requests")
    return _requests_page(request, {"pk": transfer.pk, "key": key, "form": form}, status=422)


@login_required
@require_POST
def confirm_receipt(request, pk):
    transfer = _own(request, pk)
    lines = list(transfer.lines.select_related("part", "defect").order_by("pk"))
    form = TransferReceiveForm(request.POST, lines=lines, prefix=f"t{transfer.pk}")
    return _step(
        request,
        transfer,
        "receive_form",
        form,
        lambda f: receive(transfer, request.user, f),
        _("%(number)s received into your stock."),
    )


@login_required
@require_POST
def hand_over(request, pk):
    transfer = _own(request, pk)
    lines = list(transfer.lines.select_related("part", "defect").order_by("pk"))
    form = ShipForm(request.POST, lines=lines, prefix=f"t{transfer.pk}")
    return _step(
        request, transfer, "ship_form", form, lambda f: ship(transfer, request.user, f), _("%(number)s handed over.")
    )


@login_required
@require_POST
def cancel_request(request, pk):
    transfer = _own(request, pk)
    form = CancelForm(request.POST, prefix="cancel")
    form.aliases = {}
    return _step(
        request,
        transfer,
        "cancel_form",
        form,
        lambda f: services.cancel_transfer(transfer, actor=request.user, reason=f.cleaned_data["reason"]),
        _("%(number)s cancelled."),
    )


@login_required
def return_parts(request):
    _require_engineer(request.user)
    van = selectors.van_of(request.user)
    balances = list(selectors.van_stock(van))
    form = VanReturnForm(
        request.POST or None,
        destinations=selectors.request_sources_for(request.user),
        balances=balances,
        defects=selectors.owed_by(request.user).filter(status=DefectStatus.OWED),
    )
    if request.method == "POST" and form.is_valid():
        lines, aliases = form.clean_lines()
        try:
            if van is None:
                raise ValidationError(_("You hold no stock to return."))
            transfer = services.request_transfer(
                actor=request.user,
                kind=TransferKind.RETURN,
                source=van,
                destination=form.cleaned_data["destination"],
                lines=lines,
                defects=list(form.cleaned_data["defects"]),
                note=form.cleaned_data["note"],
                delivery="collect",
            )
        except ValidationError as error:
            add_service_errors(form, error, {**aliases, "source": None})
        else:
            messages.success(
                request, _("%(number)s is ready: hand the parts over or ship them.") % {"number": transfer.number}
            )
            return redirect("inventory:van_requests")
    return render(request, "inventory/van_return.html", {"form": form, "van": van})
