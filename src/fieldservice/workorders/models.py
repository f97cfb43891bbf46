import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import Equipment
from fieldservice.contracts.choices import Entitlement
from fieldservice.customers.models import Contact, Customer, Site
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import (
    AttachmentKind,
    Channel,
    HoldReason,
    NeededPartSource,
    Priority,
    RequestStatus,
    ResolutionType,
    ServiceType,
    WorkOrderStatus,
)


def new_follow_token() -> str:
    # 128 bits: the link is the customer's only key to follow the request.
    return secrets.token_urlsafe(16)


class FaultCategory(models.Model):
    """A node in the configurable fault tree, e.g. 液压系统 › 油温过高."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    skill = models.ForeignKey(
        "accounts.Skill",
        verbose_name=_("skill needed"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("fault category")
        verbose_name_plural = _("fault categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.parent} › {self.name}" if self.parent_id else self.name


class ServiceRequest(models.Model):
    """What a customer asked for, from any channel. It becomes work orders, or is resolved
    without a visit (a consultation), or discarded."""

    number = models.CharField(_("request number"), max_length=20, unique=True, null=True, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
    )
    service_type = models.CharField(
        _("service type"), max_length=20, choices=ServiceType.choices, default=ServiceType.REPAIR
    )
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    # A customer says how urgent it is in his own words; our staff set the priority from it.
    urgency = models.CharField(_("urgency"), max_length=300, blank=True)
    fault_category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("fault category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("description"))
    reporter_name = models.CharField(_("reporter"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=32, blank=True, db_index=True)
    reporter_email = models.EmailField(_("reporter's e-mail"), blank=True)
    follow_token = models.CharField(max_length=32, unique=True, default=new_follow_token, editable=False)
    email_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    # The QR reporter proved they hold reporter_phone with a code sent to it by SMS.
    phone_verified = models.BooleanField(_("phone verified"), default=False)
    resolution_note = models.TextField(_("resolution"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return self.number or str(_("new request"))


class WorkOrder(models.Model):
    """One visit (or one piece of work) for a request, from dispatch to closing.

    `status` changes only through `workorders.services.lifecycle.transition`."""

    number = models.CharField(_("work order number"), max_length=20, unique=True, null=True, editable=False)
    request = models.ForeignKey(
        ServiceRequest, verbose_name=_("service request"), on_delete=models.PROTECT, related_name="work_orders"
    )
    # No index of its own: the (customer, status) index in Meta serves every lookup by customer,
    # and each index is one more write on every status change.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="work_orders", db_index=False
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    equipment = models.ForeignKey(
        Equipment,
        verbose_name=_("equipment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    fault_category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("fault category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("description"))
    # Indexed through (status, created_at) in Meta; a plain status index (and its LIKE twin) would
    # only add writes to every transition.
    status = models.CharField(_("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.NEW)
    status_before_hold = models.CharField(max_length=20, choices=WorkOrderStatus.choices, blank=True)
    hold_reason = models.CharField(_("hold reason"), max_length=20, choices=HoldReason.choices, blank=True)
    # The work done, recorded on site.
    resolution_type = models.CharField(_("resolution"), max_length=30, choices=ResolutionType.choices, blank=True)
    fault_cause = models.TextField(_("fault cause"), blank=True)
    actions_taken = models.TextField(_("work done"), blank=True)
    labour_hours = models.DecimalField(
        _("labour hours"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
    )
    # Decided when the order is created (contracts.services.decide_entitlement) and kept, so a
    # later change of contract does not rewrite why an old visit was or was not charged.
    entitlement = models.CharField(_("entitlement"), max_length=12, choices=Entitlement.choices, blank=True)
    entitlement_reason = models.CharField(_("entitlement reason"), max_length=300, blank=True)
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    sla_policy = models.ForeignKey(
        "contracts.SlaPolicy",
        verbose_name=_("SLA policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    # A visit planned ahead (a maintenance plan's due visit, a campaign's end) is measured against
    # this day, not by the SLA's response clocks: those count from creation and would breach
    # a visit opened 30 days before it is due.
    planned_for = models.DateField(
        _("planned for"),
        null=True,
        blank=True,
        help_text=_("The day a planned visit is due; its SLA clocks do not run."),
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "-created_at"]), models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return self.number or str(_("new work order"))


class WorkOrderEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The service log is append-only")

    def delete(self):
        raise TypeError("The service log is append-only")


class WorkOrderEvent(models.Model):
    """One line of a work order's service log: a move (from → to) or a recorded fact."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, choices=WorkOrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=WorkOrderStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = WorkOrderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("service log entry")
        verbose_name_plural = _("service log")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("The service log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The service log is append-only")


class Attachment(models.Model):
    """A photo, signature or document on a request or a work order."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.PHOTO)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(request__isnull=False) | models.Q(work_order__isnull=False),
                name="attachment_belongs_somewhere",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class FaultCategoryPart(models.Model):
    """A part a fault of this category usually needs: new orders of the category list it."""

    category = models.ForeignKey(
        FaultCategory, verbose_name=_("fault category"), on_delete=models.CASCADE, related_name="usual_parts"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.CASCADE, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=1)

    class Meta:
        verbose_name = _("usual part")
        verbose_name_plural = _("usual parts")
        ordering = ["category", "part__part_number"]
        constraints = [
            models.UniqueConstraint(fields=["category", "part"], name="fault_category_part_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="fault_category_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.part}"


class NeededPart(models.Model):
    """A part the order probably needs, so that dispatch can prefer an engineer who carries it."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="needed_parts"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3, default=1)
    source = models.CharField(_("source"), max_length=16, choices=NeededPartSource.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("needed part")
        verbose_name_plural = _("needed parts")
        ordering = ["work_order", "part__part_number"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "part"], name="needed_part_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="needed_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.part}"
