"""Campaigns and recalls (主动服务活动): a notice or a visit for every machine of a selection.

A campaign is written as a draft with its selection (criteria that all must hold); launching it
freezes the selection into one `CampaignTarget` per machine and opens one work order per machine
(or, for "notify only", the notice alone). Each target then follows its order: done when the order
is completed or closed; the office records a customer's refusal or that nobody could be reached.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets.models import Equipment, ProductModel
from fieldservice.core.choices import Priority, ServiceType
from fieldservice.customers.models import Customer, Site
from fieldservice.field.models import JobTemplate
from fieldservice.inventory.models import Part
from fieldservice.workorders.models import WorkOrder


class CampaignAction(models.TextChoices):
    NOTIFY = "notify", _("Notify only")
    INSPECT = "inspect", _("Inspect")
    REPLACE_PART = "replace_part", _("Replace a part")
    FIRMWARE = "firmware", _("Firmware update")
    RECALL = "recall", _("Recall")


# The actions whose machines get a work order each; "notify only" sends the notice alone.
ORDER_ACTIONS = frozenset(
    {CampaignAction.INSPECT, CampaignAction.REPLACE_PART, CampaignAction.FIRMWARE, CampaignAction.RECALL}
)
# The actions that carry a parts list to every order.
PARTS_ACTIONS = frozenset({CampaignAction.REPLACE_PART, CampaignAction.RECALL})


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LAUNCHED = "launched", _("Launched")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignTransition(models.TextChoices):
    LAUNCH = "launch", _("launch")
    CLOSE = "close", _("close")
    CANCEL = "cancel", _("cancel")


# verb -> (states it may start from, state it leads to)
CAMPAIGN_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    CampaignTransition.LAUNCH: (frozenset({CampaignStatus.DRAFT}), CampaignStatus.LAUNCHED),
    CampaignTransition.CLOSE: (frozenset({CampaignStatus.LAUNCHED}), CampaignStatus.CLOSED),
    CampaignTransition.CANCEL: (frozenset({CampaignStatus.DRAFT, CampaignStatus.LAUNCHED}), CampaignStatus.CANCELLED),
}


class CampaignSource(models.TextChoices):
    MANUAL = "", _("Written by hand")
    KNOWLEDGE = "knowledge", _("Knowledge article")
    QUALITY_ALERT = "quality_alert", _("Quality alert")


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused by the customer")
    UNREACHABLE = "unreachable", _("Unreachable")


CAMPAIGN_STATUS_COLOURS = {
    CampaignStatus.DRAFT: "",
    CampaignStatus.LAUNCHED: "warn",
    CampaignStatus.CLOSED: "ok",
    CampaignStatus.CANCELLED: "bad",
}
TARGET_STATUS_COLOURS = {
    TargetStatus.PENDING: "warn",
    TargetStatus.DONE: "ok",
    TargetStatus.REFUSED: "bad",
    TargetStatus.UNREACHABLE: "bad",
}


class Campaign(models.Model):
    number = models.CharField(_("campaign number"), max_length=20, unique=True, null=True, blank=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    action = models.CharField(_("action"), max_length=20, choices=CampaignAction.choices)
    job_template = models.ForeignKey(
        JobTemplate,
        verbose_name=_("job template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    service_type = models.CharField(
        _("service type of the orders"), max_length=20, choices=ServiceType.choices, default=ServiceType.INSPECTION
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, editable=False
    )
    source_kind = models.CharField(
        _("started from"), max_length=20, choices=CampaignSource.choices, blank=True, default=CampaignSource.MANUAL
    )
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    # The selection: every criterion given must hold.
    product_models = models.ManyToManyField(
        ProductModel, verbose_name=_("product models"), blank=True, related_name="+"
    )
    serial_from = models.CharField(_("serial number from"), max_length=64, blank=True)
    serial_to = models.CharField(_("serial number to"), max_length=64, blank=True)
    lot_from = models.CharField(_("lot from"), max_length=64, blank=True)
    lot_to = models.CharField(_("lot to"), max_length=64, blank=True)
    installed_from = models.DateField(_("installed from"), null=True, blank=True)
    installed_to = models.DateField(_("installed until"), null=True, blank=True)
    customers = models.ManyToManyField(Customer, verbose_name=_("customers"), blank=True, related_name="+")
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("service areas"), blank=True, related_name="+")
    listed = models.ManyToManyField(
        Equipment,
        verbose_name=_("listed machines"),
        blank=True,
        related_name="+",
        help_text=_("Machines picked one by one."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"]), models.Index(fields=["source_kind", "source_id"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or _('Draft')} {self.title}"

    @property
    def creates_orders(self) -> bool:
        return self.action in ORDER_ACTIONS


class CampaignPart(models.Model):
    """A part every machine of the campaign gets (replace a part, recall), with its quantity."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity per machine"), max_digits=10, decimal_places=3)

    class Meta:
        verbose_name = _("campaign part")
        verbose_name_plural = _("campaign parts")
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "part"], name="campaign_part_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="campaign_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity}"


class CampaignTarget(models.Model):
    """One machine of a launched campaign: the selection frozen at launch, and its progress."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    equipment = models.ForeignKey(Equipment, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="+")
    # Copied from the machine at launch: a customer's targets are scoped without a join, and the
    # progress per area stays what it was when the machine later moves.
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    area = models.ForeignKey(
        ServiceArea, verbose_name=_("area"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    work_order = models.OneToOneField(
        WorkOrder,
        verbose_name=_("work order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaign_target",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=TargetStatus.choices, default=TargetStatus.PENDING, editable=False
    )
    note = models.CharField(_("reason or note"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    notified_at = models.DateTimeField(_("customer notified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign machine")
        verbose_name_plural = _("campaign machines")
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "equipment"], name="campaign_target_one_per_machine"),
        ]
        indexes = [models.Index(fields=["campaign", "status"]), models.Index(fields=["customer", "campaign"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.equipment_id}"


# Labels of the actions campaigns record in the event log (registered with core.events).
CAMPAIGN_ACTION_LABELS = {
    "campaign_launched": _("campaign launched"),
    "campaign_closed": _("campaign closed"),
    "campaign_cancelled": _("campaign cancelled"),
    "target_marked": _("machine marked"),
    "notice_acknowledged": _("notice acknowledged"),
}
