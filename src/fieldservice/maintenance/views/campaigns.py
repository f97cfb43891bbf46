"""Pages of campaigns: the list, the form with its selection preview, the detail with progress per
area, the machines (mark refused or unreachable, Excel export), the customer's notices, and the
panel that starts a campaign from a knowledge article."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.validation import parse_id
from fieldservice.knowledge.models import Article
from fieldservice.knowledge.selectors import get_article_for
from fieldservice.maintenance.forms.campaigns import (
    CampaignFilterForm,
    CampaignForm,
    CancelForm,
    MarkTargetForm,
    TargetFilterForm,
)
from fieldservice.maintenance.models.campaigns import (
    CAMPAIGN_STATUS_COLOURS,
    TARGET_STATUS_COLOURS,
    Campaign,
    CampaignSource,
    CampaignStatus,
)
from fieldservice.maintenance.permissions import is_customer_user, may_manage_campaigns, may_view_campaigns
from fieldservice.maintenance.selectors import campaigns as selectors
from fieldservice.maintenance.services import campaigns as services

CAMPAIGNS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda c: c.number,
            link=lambda c: reverse("maintenance:campaign_detail", args=[c.pk]),
        ),
        Column(gettext_lazy("Title"), lambda c: c.title),
        Column(gettext_lazy("Action"), lambda c: c.get_action_display()),
        Column(
            gettext_lazy("Status"),
            lambda c: c.get_status_display(),
            badge=lambda c: CAMPAIGN_STATUS_COLOURS.get(c.status, ""),
        ),
        Column(gettext_lazy("Owner"), lambda c: c.owner.get_full_name() or c.owner.username),
        Column(gettext_lazy("Starts"), lambda c: c.starts_on, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Ends"), lambda c: c.ends_on, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Launched"), lambda c: c.launched_at, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Reason"), lambda c: c.reason, page=False),
    ],
    filter_form=CampaignFilterForm,
    search=gettext_lazy("Number, title or reason"),
    order=("-created_at", "-pk"),
    empty=gettext_lazy("No campaigns yet."),
    empty_filtered=gettext_lazy("No campaign matches these filters."),
    export_name="campaigns",
    export_title=gettext_lazy("Campaigns"),
)

TARGETS = Listing(
    columns=[
        Column(gettext_lazy("Model"), lambda t: t.equipment.product_model.code),
        Column(gettext_lazy("Serial number"), lambda t: t.equipment.serial_number),
        Column(gettext_lazy("Lot"), lambda t: t.equipment.lot_number, default="—"),
        Column(gettext_lazy("Customer"), lambda t: t.customer.name),
        Column(gettext_lazy("Site"), lambda t: t.site.name if t.site_id else "", default="—"),
        Column(gettext_lazy("Area"), lambda t: t.area.name if t.area_id else "", default="—"),
        Column(
            gettext_lazy("Work order"),
            lambda t: t.work_order.number if t.work_order_id else "",
            default="—",
            link=lambda t: reverse("workorders:order_detail", args=[t.work_order_id]) if t.work_order_id else None,
        ),
        Column(
            gettext_lazy("Order status"),
            lambda t: t.work_order.get_status_display() if t.work_order_id else "",
            default="—",
        ),
        Column(
            gettext_lazy("Status"),
            lambda t: t.get_status_display(),
            badge=lambda t: TARGET_STATUS_COLOURS.get(t.status, ""),
        ),
        Column(gettext_lazy("Reason or note"), lambda t: t.note, default=""),
        Column(gettext_lazy("Done"), lambda t: t.done_at, date="SHORT_DATE_FORMAT", default="—"),
        Column(gettext_lazy("Mark"), cell="maintenance/cells/campaign_mark.html", export=False, when="may_manage"),
    ],
    filter_form=TargetFilterForm,
    search=gettext_lazy("Serial number, lot, customer or order"),
    order=("pk",),
    row_id="target",
    empty=gettext_lazy("This campaign has no machines yet: they are fixed when it is launched."),
    empty_filtered=gettext_lazy("No machine matches these filters."),
    export_name="campaign-machines",
    export_title=gettext_lazy("Campaign machines"),
)


def _fail(request, error) -> None:
    messages.error(request, getattr(error, "message", None) or str(error))


@login_required
def campaign_list(request):
    require(may_view_campaigns(request.user))
    filters = CAMPAIGNS.filters(request)
    campaigns = selectors.campaigns_for(request.user)
    if filters is not None and filters.is_valid():
        campaigns = selectors.filter_campaigns(
            campaigns, status=filters.cleaned_data.get("status", ""), action=filters.cleaned_data.get("action", "")
        )
    campaigns = selectors.search_campaigns(campaigns, request.GET.get("q", "")[:100])
    return CAMPAIGNS.render(
        request,
        "maintenance/campaign_list.html",
        campaigns,
        filters=filters,
        context={"may_manage": may_manage_campaigns(request.user)},
    )


def _fields(form: CampaignForm, *, launched: bool = False) -> dict:
    data = form.cleaned_data
    names = ["title", "reason", "owner", "starts_on", "ends_on"]
    if not launched:
        names += [
            "action",
            "service_type",
            "priority",
            "job_template",
            "product_models",
            "serial_from",
            "serial_to",
            "lot_from",
            "lot_to",
            "installed_from",
            "installed_to",
            "customers",
            "areas",
            "serials",
        ]
    fields = {name: data.get(name) for name in names}
    if not launched:
        for name in ("product_models", "customers", "areas"):
            fields[name] = list(fields[name] or [])
        upload = data.get("serials_file")
        if upload:
            uploaded = services.serials_from_upload(upload)
            fields["serials"] = "\n".join(filter(None, [fields["serials"] or "", uploaded]))
    return fields


def _article_initial(request, user) -> dict:
    """A campaign started from a knowledge article: its title, its text as the reason, its model."""
    article_id = parse_id(request.GET.get("article"))
    if article_id is None:
        return {}
    article: Article = get_article_for(user, article_id)
    reason = "\n".join(filter(None, [article.symptoms, article.cause, article.solution]))
    initial = {
        "title": article.title[:200],
        "reason": reason[:4000],
        "source_kind": CampaignSource.KNOWLEDGE,
        "source_id": article.pk,
    }
    if article.product_model_id:
        initial["product_models"] = [article.product_model_id]
    return initial


def _form_page(request, form, campaign, preview=None):
    return render(
        request,
        "maintenance/campaign_form.html",
        {"form": form, "campaign": campaign, "preview": preview},
    )


def _preview(request, form, campaign):
    """The selection of the form as it stands, not saved."""
    fields = _fields(form)
    criteria = {name: fields[name] for name in services.CRITERIA if name in fields}
    try:
        selection = services.check_selection(**criteria)
    except ValidationError as error:
        add_service_errors(form, error)
        return _form_page(request, form, campaign)
    return _form_page(request, form, campaign, services.preview(selection, actor=request.user))


@login_required
def campaign_create(request):
    require(may_manage_campaigns(request.user))
    if request.method == "POST":
        form = CampaignForm(request.POST, request.FILES)
        if form.is_valid():
            if "preview" in request.POST:
                return _preview(request, form, None)
            fields = {}
            try:
                fields = _fields(form)
                source_kind = form.cleaned_data.get("source_kind") or ""
                source_id = form.cleaned_data.get("source_id")
                if source_kind not in CampaignSource.values:
                    source_kind, source_id = "", None
                campaign = services.create_campaign(
                    actor=request.user,
                    parts=form.parts(),
                    source_kind=source_kind,
                    source_id=source_id if source_kind else None,
                    **fields,
                )
            except ValidationError as error:
                add_service_errors(form, error, aliases={"equipment_ids": "serials", "machines": "serials"})
            else:
                messages.success(request, _("Campaign %(number)s saved as a draft.") % {"number": campaign.number})
                return redirect("maintenance:campaign_detail", pk=campaign.pk)
        return _form_page(request, form, None)
    form = CampaignForm(initial=_article_initial(request, request.user))
    return _form_page(request, form, None)


def _initial_of(campaign: Campaign) -> dict:
    initial = {
        name: getattr(campaign, name)
        for name in (
            "title",
            "reason",
            "action",
            "service_type",
            "priority",
            "job_template",
            "owner",
            "starts_on",
            "ends_on",
            "serial_from",
            "serial_to",
            "lot_from",
            "lot_to",
            "installed_from",
            "installed_to",
        )
    }
    initial["product_models"] = list(campaign.product_models.values_list("pk", flat=True))
    initial["customers"] = list(campaign.customers.values_list("pk", flat=True))
    initial["areas"] = list(campaign.areas.values_list("pk", flat=True))
    initial["serials"] = "\n".join(campaign.listed.values_list("serial_number", flat=True))
    for index, row in enumerate(campaign.parts.all()[:5]):
        initial[f"part_{index}"] = row.part_id
        initial[f"quantity_{index}"] = row.quantity
    return initial


@login_required
def campaign_edit(request, pk):
    require(may_manage_campaigns(request.user))
    campaign = selectors.get_campaign_for(request.user, pk)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.LAUNCHED):
        messages.error(request, _("A closed or cancelled campaign cannot be changed."))
        return redirect("maintenance:campaign_detail", pk=campaign.pk)
    launched = campaign.status == CampaignStatus.LAUNCHED
    if request.method == "POST":
        form = CampaignForm(request.POST, request.FILES, launched=launched)
        if form.is_valid():
            if "preview" in request.POST and not launched:
                return _preview(request, form, campaign)
            try:
                fields = _fields(form, launched=launched)
                services.update_campaign(
                    campaign, actor=request.user, parts=None if launched else form.parts(), **fields
                )
            except ValidationError as error:
                add_service_errors(form, error, aliases={"equipment_ids": "serials", "machines": "serials"})
            except DomainError as error:
                _fail(request, error)
            else:
                messages.success(request, _("Campaign %(number)s saved.") % {"number": campaign.number})
                return redirect("maintenance:campaign_detail", pk=campaign.pk)
        return _form_page(request, form, campaign)
    return _form_page(request, CampaignForm(initial=_initial_of(campaign), launched=launched), campaign)


@login_required
def campaign_detail(request, pk):
    require(may_view_campaigns(request.user))
    campaign = selectors.get_campaign_for(request.user, pk)
    targets = selectors.campaign_targets_for(request.user, campaign)
    overall, areas = selectors.progress_of(targets, no_area_label=_("No area"))
    manage = may_manage_campaigns(request.user)
    preview = None
    if manage and campaign.status == CampaignStatus.DRAFT:
        preview = services.preview_campaign(campaign, actor=request.user)
    return render(
        request,
        "maintenance/campaign_detail.html",
        {
            "campaign": campaign,
            "overall": overall,
            "areas": areas,
            "preview": preview,
            "parts": campaign.parts.select_related("part"),
            "may_manage": manage,
            "cancel_form": CancelForm(),
        },
    )


def _verb(request, pk, act, done: str):
    require(may_manage_campaigns(request.user))
    campaign = selectors.get_campaign_for(request.user, pk)
    try:
        act(campaign)
    except ValidationError as error:
        for errors in getattr(error, "message_dict", {"": error.messages}).values():
            for message in errors:
                messages.error(request, message)
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, done % {"number": campaign.number})
    return redirect("maintenance:campaign_detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_launch(request, pk):
    return _verb(
        request,
        pk,
        lambda c: services.launch_campaign(c, actor=request.user),
        _("Campaign %(number)s launched."),
    )


@login_required
@require_POST
def campaign_close(request, pk):
    return _verb(
        request, pk, lambda c: services.close_campaign(c, actor=request.user), _("Campaign %(number)s closed.")
    )


@login_required
@require_POST
def campaign_cancel(request, pk):
    reason = request.POST.get("reason", "")
    return _verb(
        request,
        pk,
        lambda c: services.cancel_campaign(c, actor=request.user, reason=reason),
        _("Campaign %(number)s cancelled."),
    )


@login_required
def campaign_targets(request, pk):
    require(may_view_campaigns(request.user))
    campaign = selectors.get_campaign_for(request.user, pk)
    filters = TARGETS.filters(request)
    targets = selectors.campaign_targets_for(request.user, campaign)
    status, area = "", None
    if filters is not None and filters.is_valid():
        status = filters.cleaned_data.get("status", "")
        area = filters.cleaned_data.get("area")
    targets = selectors.filter_targets(
        targets, text=request.GET.get("q", "")[:100], status=status, area=area.pk if area else None
    )
    return TARGETS.render(
        request,
        "maintenance/campaign_targets.html",
        targets,
        filters=filters,
        context={
            "campaign": campaign,
            "may_manage": may_manage_campaigns(request.user) and campaign.status == CampaignStatus.LAUNCHED,
            "mark_form": MarkTargetForm(),
        },
    )


@login_required
@require_POST
def target_mark(request, pk, target_pk):
    require(may_manage_campaigns(request.user))
    campaign = selectors.get_campaign_for(request.user, pk)
    target = selectors.get_target_for(request.user, target_pk, campaign)
    form = MarkTargetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to mark the machine as."))
    else:
        try:
            services.mark_target(
                target, actor=request.user, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            for errors in error.message_dict.values():
                for message in errors:
                    messages.error(request, message)
        except DomainError as error:
            _fail(request, error)
        else:
            messages.success(request, _("%(serial)s marked.") % {"serial": target.equipment.serial_number})
    return redirect(f"{reverse('maintenance:campaign_targets', args=[campaign.pk])}#target-{target.pk}")


@login_required
def campaign_notices(request):
    """The customer's notices: every launched campaign about one of his machines."""
    require(may_view_campaigns(request.user))
    targets = (
        selectors.targets_for(request.user)
        .filter(campaign__status__in=selectors.VISIBLE_TO_OUTSIDERS)
        .order_by("-campaign__launched_at", "campaign_id", "pk")
    )
    page_targets = list(targets[:200])
    return render(
        request,
        "maintenance/campaign_notices.html",
        {"targets": page_targets, "more": len(page_targets) == 200, "customer": is_customer_user(request.user)},
    )


@login_required
@require_POST
def notice_acknowledge(request, target_pk):
    require(may_view_campaigns(request.user))
    target = selectors.get_target_for(request.user, target_pk)
    try:
        services.acknowledge_notice(target, actor=request.user)
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Thank you: the notice is marked as read."))
    return redirect("maintenance:campaign_notices")


def knowledge_article_panel(request, article) -> str:
    """On a knowledge article: start a campaign over the article's machines (early intervention)."""
    if not may_manage_campaigns(request.user):
        return ""
    started = selectors.campaigns_for(request.user).filter(source_kind=CampaignSource.KNOWLEDGE, source_id=article.pk)
    return render_to_string(
        "maintenance/_article_campaign_panel.html",
        {"article": article, "started": list(started[:10])},
        request=request,
    )


def public_equipment_panel(request, equipment) -> str:
    """On the machine's QR page: the launched campaigns about it whose work is not done yet (the
    campaign's title, action and reason only: the page is public)."""
    notices = selectors.open_notices_of(equipment)
    if not notices:
        return ""
    return render_to_string("maintenance/_public_campaign_notices.html", {"notices": notices}, request=request)


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/notices/", campaign_notices, name="campaign_notices"),
    path("campaigns/notices/<int:target_pk>/acknowledge/", notice_acknowledge, name="notice_acknowledge"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/launch/", campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/close/", campaign_close, name="campaign_close"),
    path("campaigns/<int:pk>/cancel/", campaign_cancel, name="campaign_cancel"),
    path("campaigns/<int:pk>/machines/", campaign_targets, name="campaign_targets"),
    path("campaigns/<int:pk>/machines/<int:target_pk>/mark/", target_mark, name="target_mark"),
]
