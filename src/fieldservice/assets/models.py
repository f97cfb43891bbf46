import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.choices import OPERATING_HOURS, EquipmentStatus, FittedPartSource, MeterSource, WarrantyState
from fieldservice.customers.models import Customer, Site
from fieldservice.inventory.models import Part


def new_public_token() -> str:
    # 128 bits: the token is the only secret guarding the public equipment page.
    return secrets.token_urlsafe(16)


class ProductModel(models.Model):
    """A machine model we make, with its bill of materials and default warranty."""

    code = models.CharField(_("model code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    product_line = models.CharField(_("product line"), max_length=100, blank=True)
    default_warranty_months = models.PositiveSmallIntegerField(
        _("default warranty (months)"), default=12, validators=[MaxValueValidator(120)]
    )
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="product-models/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BomLine(models.Model):
    """One part and its quantity in a product model's bill of materials."""

    product_model = models.ForeignKey(ProductModel, on_delete=models.CASCADE, related_name="bom_lines")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=3, validators=[MinValueValidator(0.001)]
    )

    class Meta:
        verbose_name = _("BOM line")
        verbose_name_plural = _("BOM lines")
        ordering = ["product_model", "part__part_number"]
        constraints = [
            models.UniqueConstraint(fields=["product_model", "part"], name="bom_line_unique_part"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="bom_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity.normalize()}"


class Equipment(models.Model):
    """One installed machine (or a module of one, via `parent`) at a customer's site."""

    product_model = models.ForeignKey(
        ProductModel, verbose_name=_("product model"), on_delete=models.PROTECT, related_name="equipment"
    )
    serial_number = models.CharField(_("serial number"), max_length=64)
    lot_number = models.CharField(_("lot / batch"), max_length=64, blank=True, db_index=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="equipment"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, null=True, blank=True, related_name="equipment"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="modules",
    )
    installed_on = models.DateField(_("installation date"), null=True, blank=True)
    warranty_starts_on = models.DateField(_("warranty start"), null=True, blank=True)
    warranty_ends_on = models.DateField(_("warranty end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=EquipmentStatus.choices, default=EquipmentStatus.REGISTERED
    )
    invalidated_reason = models.CharField(_("reason for invalidation"), max_length=300, blank=True)
    public_token = models.CharField(max_length=32, unique=True, default=new_public_token, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["product_model__code", "serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product_model", "serial_number"], name="equipment_unique_serial_per_model"
            ),
            models.CheckConstraint(
                condition=models.Q(warranty_starts_on__isnull=True)
                | models.Q(warranty_ends_on__isnull=True)
                | models.Q(warranty_ends_on__gte=models.F("warranty_starts_on")),
                name="equipment_warranty_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["serial_number"])]

    def __str__(self) -> str:
        return f"{self.product_model.code} #{self.serial_number}"

    @property
    def is_registered(self) -> bool:
        return self.status == EquipmentStatus.REGISTERED

    def warranty_state(self, today=None) -> WarrantyState:
        today = today or timezone.localdate()
        if not self.warranty_starts_on or not self.warranty_ends_on:
            return WarrantyState.UNKNOWN
        if today < self.warranty_starts_on:
            return WarrantyState.NOT_STARTED
        if today > self.warranty_ends_on:
            return WarrantyState.EXPIRED
        return WarrantyState.IN_WARRANTY


class FittedPart(models.Model):
    """A part currently in a machine. Starts from the BOM; replacements update it."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="fitted_parts")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    part_serial_number = models.CharField(_("part serial number"), max_length=64, blank=True)
    fitted_on = models.DateField(_("fitted on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=FittedPartSource.choices)

    class Meta:
        verbose_name = _("fitted part")
        verbose_name_plural = _("fitted parts")
        ordering = ["equipment", "part__part_number", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="fitted_part_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.part} × {self.quantity.normalize()}"


class EquipmentDocument(models.Model):
    """A manual, drawing, certificate or photo kept with one machine."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="equipment-documents/%Y/%m/")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment document")
        verbose_name_plural = _("equipment documents")
        ordering = ["equipment", "-uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.title


class MeterReading(models.Model):
    """One reading of one of a machine's counters (operating hours, cycles, shots). Counters only
    go up, so a reading lower than the one before it is refused as a mistake."""

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="meter_readings")
    meter = models.CharField(_("meter"), max_length=40, default=OPERATING_HOURS)
    value = models.DecimalField(_("reading"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    read_at = models.DateTimeField(_("read at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=20, choices=MeterSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        ordering = ["equipment", "meter", "-read_at", "-pk"]
        indexes = [models.Index(fields=["equipment", "meter", "-read_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="meter_reading_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.value.normalize()} {self.unit}".strip()
