"""Inspections (巡检): the product-line owner checks a customer site's machines before they fail.

An inspection names its machines (one work order each once the customer approves), the job
template the engineers follow, the site's open issues to look at, and the findings: every problem
found, with what is to be done about it. Its status moves only through the transition table in
services/inspections.py.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import Equipment
from fieldservice.customers.models import Customer, Site
from fieldservice.field.models import JobTemplate
from fieldservice.workorders.models import Attachment, ServiceRequest, WorkOrder


def new_inspection_token() -> str:
    # 128 bits, as the request's follow link: the customer's only key to the inspection.
    return secrets.token_urlsafe(16)


class InspectionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent to the customer")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    REPORTED = "reported", _("Report sent")
    CONFIRMED = "confirmed", _("Confirmed")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class FindingSeverity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class FindingDisposition(models.TextChoices):
    FIXED = "fixed", _("Fixed on the spot")
    RECOMMENDATION = "recommendation", _("Recommendation to the customer")
    CHANGE = "change", _("Change needing approval")
    REPAIR = "repair", _("Repair order")


class ChangeDecision(models.TextChoices):
    PENDING = "pending", _("Awaiting the customer")
    APPROVED = "approved", _("Approved by the customer")
    DECLINED = "declined", _("Declined by the customer")


class Inspection(models.Model):
    number = models.CharField(_("inspection number"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="inspections"
    )
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="inspections")
    template = models.ForeignKey(
        JobTemplate, verbose_name=_("job template"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    engineers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("engineers"), blank=True, related_name="inspections_on"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=InspectionStatus.choices,
        default=InspectionStatus.DRAFT,
        editable=False,
        db_index=True,
    )
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    note = models.TextField(_("note to the customer"), blank=True)
    follow_token = models.CharField(max_length=32, unique=True, default=new_inspection_token, editable=False)
    # The request the orders are filed under (one per inspection, on approval).
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True, editable=False)
    decided_by_name = models.CharField(_("decided by"), max_length=100, blank=True, editable=False)
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True, editable=False)
    report_sent_at = models.DateTimeField(_("report sent"), null=True, blank=True, editable=False)
    report_version = models.PositiveIntegerField(_("report version"), default=0, editable=False)
    customer_comment = models.TextField(_("customer's comments"), blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True, editable=False)
    confirmed_by_name = models.CharField(_("confirmed by"), max_length=100, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True, editable=False)
    certificate_months = models.PositiveSmallIntegerField(_("certificate valid (months)"), default=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return self.number


class InspectionMachine(models.Model):
    """One machine of an inspection and the work order it is checked on."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="machines")
    equipment = models.ForeignKey(
        Equipment, verbose_name=_("machine"), on_delete=models.PROTECT, related_name="inspection_lines"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    work_order = models.OneToOneField(
        WorkOrder,
        verbose_name=_("work order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspection_machine",
    )
    certificate_number = models.CharField(_("certificate number"), max_length=40, blank=True)
    certificate_valid_until = models.DateField(_("certificate valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("inspected machine")
        verbose_name_plural = _("inspected machines")
        ordering = ["inspection", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "equipment"], name="inspection_machine_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection}: {self.equipment}"


class InspectionItem(models.Model):
    """An open issue of the machine (an open order or request) the engineer is to look at."""

    machine = models.ForeignKey(InspectionMachine, on_delete=models.CASCADE, related_name="items")
    work_order = models.ForeignKey(WorkOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(_("issue"), max_length=300)

    class Meta:
        verbose_name = _("issue to look at")
        verbose_name_plural = _("issues to look at")
        ordering = ["machine", "pk"]

    def __str__(self) -> str:
        return self.title


class Finding(models.Model):
    """A problem found on a machine, and what is done about it."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="findings")
    machine = models.ForeignKey(
        InspectionMachine, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="findings"
    )
    severity = models.CharField(_("severity"), max_length=10, choices=FindingSeverity.choices)
    title = models.CharField(_("problem"), max_length=300)
    disposition = models.CharField(_("disposition"), max_length=20, choices=FindingDisposition.choices)
    action_taken = models.TextField(_("what was done"), blank=True)
    recommendation = models.TextField(_("recommendation"), blank=True)
    note = models.TextField(_("note"), blank=True)
    photo = models.ForeignKey(
        Attachment, verbose_name=_("photo"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    change_decision = models.CharField(
        _("customer's decision"), max_length=10, choices=ChangeDecision.choices, blank=True, editable=False
    )
    change_decided_at = models.DateTimeField(_("decided"), null=True, blank=True, editable=False)
    change_decided_by_name = models.CharField(_("decided by"), max_length=100, blank=True, editable=False)
    change_decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True, editable=False)
    repair_order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("repair order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspection_findings",
        editable=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["inspection", "machine", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(disposition="change") | ~models.Q(change_decision=""),
                name="finding_change_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return self.title
