"""Pages of stock counts (盘点): the list, opening a count, the count sheet (phone-sized for an
engineer counting his van), the review with the differences, posting and cancelling."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.accounts.permissions import Capability, can, works_only_in_field
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import CountStatus, WarehouseKind
from fieldservice.inventory.forms import CountFilterForm, OpenCountForm
from fieldservice.inventory.models import StockBalance
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.counts import may_count, may_review, shows_expected, with_totals

COUNTS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"), lambda c: c.number, link=lambda c: reverse("inventory:count_sheet", args=[c.pk])
        ),
        Column(gettext_lazy("Warehouse"), lambda c: c.warehouse.name),
        Column(gettext_lazy("Status"), lambda c: c.get_status_display(), badge=lambda c: c.status),
        Column(gettext_lazy("Blind count"), lambda c: _("Yes") if c.blind else _("No")),
        Column(gettext_lazy("Created"), lambda c: c.created_at, date="SHORT_DATETIME_FORMAT"),
        Column(gettext_lazy("Posted"), lambda c: c.posted_at, date="SHORT_DATETIME_FORMAT", default="—"),
        Column(gettext_lazy("Lines"), lambda c: c.line_total),
        Column(
            gettext_lazy("Differences"),
            lambda c: c.difference_total if shows_expected_of(c) else None,
            default="—",
        ),
    ],
    filter_form=CountFilterForm,
    order=("-created_at", "-pk"),
    empty=gettext_lazy("No stock counts yet."),
    empty_filtered=gettext_lazy("No count matches these filters."),
    export_name="stock-counts",
    export_title=gettext_lazy("Stock counts"),
)


def shows_expected_of(count) -> bool:
    # A blind count's differences are the keeper's to see at review, not a list column's.
    return not count.blind or count.status != CountStatus.OPEN


def countable_for(actor):
    """The warehouses `actor` may open a count of."""
    places = selectors.warehouses_for(actor).filter(is_active=True).exclude(kind=WarehouseKind.TRANSIT)
    return places.filter(pk__in=[place.pk for place in places.prefetch_related("keepers") if may_operate(actor, place)])


@login_required
def count_list(request):
    if not (can(request.user, Capability.VIEW_STOCK) or can(request.user, Capability.REQUEST_PARTS)):
        raise PermissionDenied
    filters = COUNTS.filters(request)
    counts = with_totals(selectors.counts_for(request.user))
    if filters is not None and filters.is_valid() and filters.cleaned_data.get("status"):
        counts = counts.filter(status=filters.cleaned_data["status"])
    return COUNTS.render(
        request,
        "inventory/count_list.html",
        counts,
        filters=filters,
        context={"may_open": can(request.user, Capability.MANAGE_STOCK)},
    )


@login_required
def count_open(request):
    require(can(request.user, Capability.MANAGE_STOCK))
    warehouses = countable_for(request.user)
    chosen = parse_id(request.GET.get("warehouse"))
    initial = {"warehouse": chosen} if chosen is not None else {}
    form = OpenCountForm(request.POST or None, warehouses=warehouses, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.open_count(
                form.cleaned_data["warehouse"], actor=request.user, blind=form.cleaned_data["blind"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Count %(number)s opened.") % {"number": count.number})
            return redirect("inventory:count_sheet", count.pk)
    return render(request, "inventory/count_open.html", {"form": form})


def _errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages_ in error.message_dict.values() for message in messages_]
    return list(error.messages)


@login_required
def count_sheet(request, pk):
    count = selectors.get_count_for(request.user, pk)
    require(may_count(request.user, count) or may_review(request.user, count))
    errors = []
    if request.method == "POST":
        counted = {}
        for line in count.lines.all():
            value = request.POST.get(f"counted-{line.pk}", "").strip()
            if value:
                counted[line.pk] = value
        extra = []
        number = request.POST.get("extra_part", "").strip()
        if number:
            part = selectors.parts_for(request.user).filter(part_number__iexact=number).first()
            extra.append(
                {
                    "part": part.pk if part else None,
                    "lot": request.POST.get("extra_lot", ""),
                    "quantity": request.POST.get("extra_quantity", ""),
                }
            )
        try:
            services.record_counts(count, actor=request.user, counted=counted, extra=extra)
        except ValidationError as error:
            errors = _errors(error)
        except DomainError as error:
            errors = [error.message]
        else:
            messages.success(request, _("Counted quantities saved."))
            if request.POST.get("then") == "review" and may_review(request.user, count):
                return redirect("inventory:count_review", count.pk)
            return redirect("inventory:count_sheet", count.pk)
    lines = list(count.lines.select_related("part"))
    for line in lines:
        line.typed = request.POST.get(f"counted-{line.pk}", "") if errors else ""
    return render(
        request,
        "inventory/count_sheet.html",
        {
            "count": count,
            "lines": lines,
            "errors": errors,
            "show_expected": shows_expected(request.user, count),
            "may_enter": count.status == CountStatus.OPEN and may_count(request.user, count),
            "may_review": may_review(request.user, count),
            "counted_total": sum(1 for line in lines if line.counted is not None),
            "base_template": "inventory/count_phone_base.html"
            if works_only_in_field(request.user)
            else "inventory/count_desk_base.html",
        },
    )


@login_required
def count_review(request, pk):
    count = selectors.get_count_for(request.user, pk)
    require(may_review(request.user, count))
    errors = []
    if request.method == "POST":
        try:
            services.post_count(count, actor=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as error:
            errors = _errors(error)
        except DomainError as error:
            errors = [error.message]
        else:
            messages.success(request, _("Count %(number)s posted.") % {"number": count.number})
            return redirect("inventory:count_review", count.pk)
    lines = list(count.lines.select_related("part"))
    now = {
        (row.part_id, row.lot, row.grade): row.on_hand
        for row in StockBalance.objects.filter(warehouse=count.warehouse, part__in=[line.part_id for line in lines])
    }
    for line in lines:
        line.now = now.get((line.part_id, line.lot, line.grade), 0)
    return render(
        request,
        "inventory/count_review.html",
        {
            "count": count,
            "lines": lines,
            "differences": [line for line in lines if line.counted is not None and line.counted != line.expected],
            "uncounted": sum(1 for line in lines if line.counted is None),
            "moved": [line for line in lines if line.now != line.expected],
            "errors": errors,
            "reason": request.POST.get("reason", ""),
        },
    )


@login_required
@require_POST
def count_cancel(request, pk):
    count = selectors.get_count_for(request.user, pk)
    require(may_review(request.user, count))
    try:
        services.cancel_count(count, actor=request.user, reason=request.POST.get("reason", ""))
    except (ValidationError, DomainError) as error:
        messages.error(request, " ".join(_errors(error)) if isinstance(error, ValidationError) else error.message)
    else:
        messages.success(request, _("Count %(number)s cancelled.") % {"number": count.number})
    return redirect("inventory:count_sheet", count.pk)
