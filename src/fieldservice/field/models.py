from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import FittedPart, ProductModel
from fieldservice.core.choices import ServiceType
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.inventory.models import Part
from fieldservice.workorders.models import Attachment, FaultCategory, WorkOrder


class PartUsage(models.Model):
    """A part the engineer used on a visit: a replacement for one of the machine's fitted parts,
    or an addition. The machine's fitted parts change when the visit is completed."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="part_usages"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    # SET_NULL: completing the visit may remove the replaced fitted part; the snapshot below stays.
    replaces = models.ForeignKey(
        FittedPart,
        verbose_name=_("replaces"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replaced_part_number = models.CharField(_("replaced part number"), max_length=64, blank=True)
    replaced_serial = models.CharField(_("old serial number"), max_length=64, blank=True)
    is_replacement = models.BooleanField(_("replacement"), default=False)
    new_serial = models.CharField(_("new serial number"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        ordering = ["work_order", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="part_usage_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity.normalize()}"


class Signature(models.Model):
    """The customer's signature on a visit: the image (an attachment of kind signature) and who signed."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="signatures"
    )
    attachment = models.OneToOneField(Attachment, on_delete=models.CASCADE, related_name="+")
    signer_name = models.CharField(_("signed by"), max_length=100)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("captured by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    captured_at = models.DateTimeField(_("signed"), default=timezone.now)

    class Meta:
        verbose_name = _("customer signature")
        verbose_name_plural = _("customer signatures")
        ordering = ["work_order", "captured_at", "pk"]

    def __str__(self) -> str:
        return f"{self.work_order}: {self.signer_name}"


class JobTemplate(models.Model):
    """The company's standard way to do one kind of job (标准作业): ordered steps for a service type,
    narrowed by product model or product line and fault category. An order gets the steps of the
    most specific active template that matches it when it is created."""

    name = models.CharField(_("name"), max_length=200)
    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    product_model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: any model."),
    )
    product_line = models.CharField(
        _("product line"), max_length=100, blank=True, help_text=_("Empty: any line. Ignored when a model is set.")
    )
    fault_category = models.ForeignKey(
        FaultCategory,
        verbose_name=_("fault category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: any fault."),
    )
    report_layout = models.CharField(
        _("report layout"), max_length=20, choices=ReportLayout.choices, default=ReportLayout.STANDARD
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("job template")
        verbose_name_plural = _("job templates")
        ordering = ["service_type", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class StepFields(models.Model):
    """What a step asks; shared by a template's steps and the copies an order carries, so that a
    template edited later never changes the steps of orders already made from it."""

    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    title = models.CharField(_("step"), max_length=300)
    help_text = models.TextField(_("help"), blank=True)
    help_url = models.CharField(_("help link"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    min_value = models.DecimalField(_("lowest allowed"), max_digits=14, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField(_("highest allowed"), max_digits=14, decimal_places=4, null=True, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    meter = models.CharField(_("meter"), max_length=40, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class JobTemplateStep(StepFields):
    template = models.ForeignKey(JobTemplate, on_delete=models.CASCADE, related_name="steps")

    class Meta:
        verbose_name = _("template step")
        verbose_name_plural = _("template steps")
        ordering = ["template", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="job_template_step_unique_position"),
        ]


class JobStep(StepFields):
    """One step of one order, with the engineer's answer. Each answer is saved as it is given, so a
    phone that loses its connection loses at most the step on screen."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="job_steps")
    template = models.ForeignKey(
        JobTemplate, verbose_name=_("template"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    value_text = models.TextField(_("answer"), blank=True)
    value_number = models.DecimalField(_("value"), max_digits=14, decimal_places=4, null=True, blank=True)
    value_bool = models.BooleanField(_("yes / no"), null=True, blank=True)
    attachment = models.ForeignKey(
        Attachment,
        verbose_name=_("photo or signature"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    out_of_range = models.BooleanField(_("out of range"), default=False)
    comment = models.TextField(_("comment"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("job step")
        verbose_name_plural = _("job steps")
        ordering = ["work_order", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "position"], name="job_step_unique_position"),
        ]
        indexes = [models.Index(fields=["work_order", "answered_at"])]

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
