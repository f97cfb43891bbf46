"""What each user may see of campaigns and their machines.

- Our staff with VIEW_MAINTENANCE (agents, dispatchers, the director, administrators): everything.
- A customer: the launched (or closed) campaigns that name one of his company's machines, and only
  those machines; never a draft.
- A provider's administrator: the campaigns with a machine whose order was dispatched to his
  company (as workorders decides it), and only those machines.
Lookups 404 for both "missing" and "not yours".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.maintenance.models.campaigns import (
    Campaign,
    CampaignStatus,
    CampaignTarget,
    TargetStatus,
)
from fieldservice.maintenance.permissions import may_manage_campaigns, may_view_campaigns
from fieldservice.workorders.selectors import work_orders_for

VISIBLE_TO_OUTSIDERS = (CampaignStatus.LAUNCHED, CampaignStatus.CLOSED)


def _sees_all(actor: User) -> bool:
    return may_manage_campaigns(actor) or (
        may_view_campaigns(actor) and actor.is_own_staff and bool(actor.is_superuser or actor.role_codes - {"engineer"})
    )


def targets_for(actor: User) -> QuerySet[CampaignTarget]:
    targets = CampaignTarget.objects.select_related(
        "campaign", "equipment__product_model", "customer", "site", "area", "work_order"
    )
    if not may_view_campaigns(actor):
        return targets.none()
    if _sees_all(actor):
        return targets
    kind = actor.organisation_kind
    outside = targets.filter(campaign__status__in=VISIBLE_TO_OUTSIDERS)
    if kind == OrganisationKind.CUSTOMER:
        return outside.filter(customer__organisation_id=actor.organisation_id)
    if kind == OrganisationKind.PROVIDER:
        orders = work_orders_for(actor).values("pk")
        return outside.filter(work_order_id__in=orders)
    return targets.none()


def campaigns_for(actor: User) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("owner", "job_template")
    if not may_view_campaigns(actor):
        return campaigns.none()
    if _sees_all(actor):
        return campaigns
    mine = targets_for(actor).filter(campaign_id=OuterRef("pk"))
    return campaigns.filter(Exists(mine))


def search_campaigns(campaigns: QuerySet[Campaign], text: str = "") -> QuerySet[Campaign]:
    text = (text or "").strip()
    if not text:
        return campaigns
    return campaigns.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(reason__icontains=text))


def filter_campaigns(campaigns: QuerySet[Campaign], *, status: str = "", action: str = "") -> QuerySet[Campaign]:
    if status:
        campaigns = campaigns.filter(status=status)
    if action:
        campaigns = campaigns.filter(action=action)
    return campaigns


def get_campaign_for(actor: User, pk: int) -> Campaign:
    return get_object_or_404(campaigns_for(actor), pk=pk)


def campaign_targets_for(actor: User, campaign: Campaign) -> QuerySet[CampaignTarget]:
    return targets_for(actor).filter(campaign=campaign)


def get_target_for(actor: User, pk: int, campaign: Campaign | None = None) -> CampaignTarget:
    targets = targets_for(actor)
    if campaign is not None:
        targets = targets.filter(campaign=campaign)
    return get_object_or_404(targets, pk=pk)


def filter_targets(
    targets: QuerySet[CampaignTarget],
    *,
    text: str = "",
    status: str = "",
    area: int | None = None,
    customer: int | None = None,
) -> QuerySet[CampaignTarget]:
    text = (text or "").strip()
    if text:
        targets = targets.filter(
            Q(equipment__serial_number__icontains=text)
            | Q(equipment__lot_number__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(work_order__number__icontains=text)
        )
    if status:
        targets = targets.filter(status=status)
    if area:
        targets = targets.filter(area_id=area)
    if customer:
        targets = targets.filter(customer_id=customer)
    return targets


@dataclass(frozen=True)
class Progress:
    """Counts of a set of machines by state; `percent` is the share done."""

    label: str
    area_id: int | None
    total: int
    done: int
    refused: int
    unreachable: int

    @property
    def pending(self) -> int:
        return self.total - self.done - self.refused - self.unreachable

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _counts():
    return {
        "total": Count("pk"),
        "done": Count("pk", filter=Q(status=TargetStatus.DONE)),
        "refused": Count("pk", filter=Q(status=TargetStatus.REFUSED)),
        "unreachable": Count("pk", filter=Q(status=TargetStatus.UNREACHABLE)),
    }


def progress_of(targets: QuerySet[CampaignTarget], *, no_area_label: str = "") -> tuple[Progress, list[Progress]]:
    """Overall and per area (by area name; machines in no area last), in two queries."""
    overall = targets.order_by().aggregate(**_counts())
    rows = targets.order_by().values("area_id", "area__name").annotate(**_counts())
    areas = sorted(
        (
            Progress(
                label=row["area__name"] or no_area_label,
                area_id=row["area_id"],
                **{k: row[k] for k in ("total", "done", "refused", "unreachable")},
            )
            for row in rows
        ),
        key=lambda p: (p.area_id is None, p.label),
    )
    return Progress(label="", area_id=None, **overall), areas


def open_notices_of(equipment) -> list[CampaignTarget]:
    """A machine's targets in launched campaigns that are not done: its public notices."""
    return list(
        CampaignTarget.objects.filter(
            equipment=equipment, campaign__status=CampaignStatus.LAUNCHED, status=TargetStatus.PENDING
        )
        .select_related("campaign")
        .order_by("-campaign__launched_at")[:5]
    )
