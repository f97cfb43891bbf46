"""Parts, the places they are kept, and the stock ledger.

Quantities change only by appending `StockMove` rows; `StockBalance` is what those rows add up to,
kept by `F()` updates under a row lock in `services/ledger.py` and guarded by a database constraint
against a negative on-hand. Documents that move stock (transfers, counts, factory returns) refer to
work orders and machines by id and number only: inventory sits below workorders and assets and
imports neither, so those references carry no foreign key.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation, ServiceArea
from fieldservice.inventory.choices import (
    CountStatus,
    DefectStatus,
    Delivery,
    FactoryReturnStatus,
    Finding,
    Grade,
    MoveReason,
    Tracking,
    TransferKind,
    TransferStatus,
    Unit,
    UnitStatus,
    WarehouseKind,
)

QUANTITY = {"max_digits": 12, "decimal_places": 3}
COST = {"max_digits": 14, "decimal_places": 4}
ZERO = Decimal("0")


class Part(models.Model):
    """A spare part in the catalogue. Bills of materials, fitted parts and stock refer to it."""

    part_number = models.CharField(_("part number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    specification = models.CharField(_("specification"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    tracking = models.CharField(_("tracking"), max_length=8, choices=Tracking.choices, default=Tracking.NONE)
    # Moving-average cost of one unit of good stock, updated by every receipt.
    average_cost = models.DecimalField(_("average cost"), default=ZERO, **COST)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["part_number"]
        constraints = [models.CheckConstraint(condition=Q(average_cost__gte=0), name="part_average_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"


class Warehouse(models.Model):
    """A place stock is kept: a central or regional warehouse, a provider's own warehouse, an
    engineer's van (his personal stock), or an organisation's goods in transit."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=WarehouseKind.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="warehouses"
    )
    engineer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="van",
    )
    keepers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("keepers"), blank=True, related_name="kept_warehouses"
    )
    area = models.ForeignKey(
        ServiceArea,
        verbose_name=_("service area"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="warehouses",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=WarehouseKind.VAN, engineer__isnull=False)
                | (~Q(kind=WarehouseKind.VAN) & Q(engineer__isnull=True)),
                name="warehouse_van_has_engineer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_van(self) -> bool:
        return self.kind == WarehouseKind.VAN


class Bin(models.Model):
    """A shelf place inside a warehouse, printed as a label."""

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.CASCADE, related_name="bins")
    code = models.CharField(_("code"), max_length=32)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        ordering = ["warehouse", "code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="bin_unique_code_per_warehouse")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class StockBalance(models.Model):
    """What the ledger says is in one warehouse of one part (of one lot, of one grade).

    Written only by `services.ledger.post`; `fsm stock_check` recomputes it from the ledger."""

    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="balances"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="balances")
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.GOOD)
    on_hand = models.DecimalField(_("on hand"), default=ZERO, **QUANTITY)
    reserved = models.DecimalField(_("reserved"), default=ZERO, **QUANTITY)
    bin = models.ForeignKey(
        Bin, verbose_name=_("bin"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["warehouse", "part__part_number", "lot", "grade"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "part", "lot", "grade"], name="stock_balance_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]
        indexes = [models.Index(fields=["part", "warehouse"], name="stock_balance_part")]

    def __str__(self) -> str:
        return f"{self.warehouse.code} {self.part.part_number}: {self.on_hand.normalize()}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class SerialUnit(models.Model):
    """One unit of a serial-tracked part, followed from receipt to the machine it went into and back."""

    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="units")
    serial = models.CharField(_("serial number"), max_length=64)
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=UnitStatus.choices, default=UnitStatus.IN_STOCK)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.GOOD)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, null=True, blank=True, related_name="units"
    )
    # The machine it is fitted to (assets sit above inventory: id and serial, no foreign key).
    equipment_id = models.BigIntegerField(_("machine"), null=True, blank=True, db_index=True)
    equipment_label = models.CharField(_("machine"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("serial unit")
        verbose_name_plural = _("serial units")
        ordering = ["part__part_number", "serial"]
        constraints = [models.UniqueConstraint(fields=["part", "serial"], name="serial_unit_unique_per_part")]

    def __str__(self) -> str:
        return f"{self.part.part_number} #{self.serial}"


class StockMove(models.Model):
    """One line of the stock ledger: append-only. `quantity` changes on-hand, `reserved` changes the
    reservation, both signed; the balance after the move is kept for the ledger's running column.

    `document_kind` / `document_id` / `reference` name what caused the move (a transfer, a count, a
    work order); `work_order_id` and `equipment_id` are plain ids for the same reason as above."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The ledger is written far more often than searched. Its indexes are those a page or the API
    # reads by; the composite (part, time) and (warehouse, time) serve those foreign keys too, so
    # Django's single-column indexes are left out, and nobody looks moves up by who made them.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=20, choices=MoveReason.choices)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="moves", db_index=False
    )
    part = models.ForeignKey(
        Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="moves", db_index=False
    )
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.GOOD)
    unit = models.ForeignKey(
        SerialUnit,
        verbose_name=_("serial unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="moves",
        db_index=False,
    )
    quantity = models.DecimalField(_("quantity"), default=ZERO, **QUANTITY)
    reserved = models.DecimalField(_("reserved"), default=ZERO, **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), default=ZERO, **COST)
    on_hand_after = models.DecimalField(_("on hand after"), **QUANTITY)
    document_kind = models.CharField(_("document"), max_length=20, blank=True)
    document_id = models.BigIntegerField(null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    work_order_id = models.BigIntegerField(_("work order"), null=True, blank=True)
    equipment_id = models.BigIntegerField(_("machine"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["part", "-at"], name="stock_move_part"),
            models.Index(fields=["warehouse", "-at"], name="stock_move_warehouse"),
            models.Index(fields=["document_kind", "document_id"], name="stock_move_document"),
            # Most moves have no serial unit and no work order: only the rows that do are indexed.
            models.Index(fields=["unit"], name="stock_move_unit", condition=Q(unit__isnull=False)),
            models.Index(
                fields=["work_order_id"], name="stock_move_work_order", condition=Q(work_order_id__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0) | ~Q(reserved=0), name="stock_move_moves_something"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_reason_display()} {self.part.part_number} {self.quantity.normalize()} @ {self.warehouse.code}"
        )

    @property
    def value(self) -> Decimal:
        return self.quantity * self.unit_cost


class StockLevel(models.Model):
    """The minimum and maximum a warehouse should hold of a part, set from a parts plan."""

    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.CASCADE, related_name="levels"
    )
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.CASCADE, related_name="levels")
    minimum = models.DecimalField(_("minimum"), **QUANTITY)
    maximum = models.DecimalField(_("maximum"), **QUANTITY)
    # When the keeper was last told this part fell below its minimum (one alert until refilled).
    alerted_at = models.DateTimeField(_("alerted"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["warehouse", "part__part_number"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "part"], name="stock_level_unique"),
            models.CheckConstraint(
                condition=Q(minimum__gte=0) & Q(maximum__gte=models.F("minimum")), name="stock_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code} {self.part.part_number}: {self.minimum.normalize()}–{self.maximum.normalize()}"


class Transfer(models.Model):
    """Stock on its way from one warehouse to another, as one document with one life:
    requested → approved → shipped → received (or rejected / cancelled).

    A requisition (领料单) fills an engineer's van, often for a work order; a transfer (调拨) moves
    stock between warehouses; a return (退料) brings parts from a van back, good or defective."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=TransferKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    source = models.ForeignKey(
        Warehouse, verbose_name=_("from"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    destination = models.ForeignKey(
        Warehouse, verbose_name=_("to"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    work_order_id = models.BigIntegerField(_("work order"), null=True, blank=True, db_index=True)
    work_order_number = models.CharField(_("work order"), max_length=32, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices, default=Delivery.SHIP)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shipped by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    closed_note = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "kind"], name="transfer_status_kind")]
        constraints = [models.CheckConstraint(condition=~Q(source=models.F("destination")), name="transfer_two_places")]

    def __str__(self) -> str:
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.GOOD)
    requested = models.DecimalField(_("requested"), **QUANTITY)
    approved = models.DecimalField(_("approved"), default=ZERO, **QUANTITY)
    shipped = models.DecimalField(_("shipped"), default=ZERO, **QUANTITY)
    received = models.DecimalField(_("received"), default=ZERO, **QUANTITY)
    units = models.ManyToManyField(SerialUnit, verbose_name=_("serial units"), blank=True, related_name="+")
    # A defective part brought back on a return: the line carries it, one line per part owed.
    defect = models.ForeignKey(
        "DefectivePart",
        verbose_name=_("defective part"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_lines",
    )

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["transfer", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(requested__gt=0), name="transfer_line_requested_positive"),
            models.CheckConstraint(
                condition=Q(approved__gte=0)
                & Q(shipped__gte=0)
                & Q(received__gte=0)
                & Q(received__lte=models.F("shipped")),
                name="transfer_line_quantities",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part.part_number} × {self.requested.normalize()}"

    @property
    def shortfall(self) -> Decimal:
        return self.shipped - self.received


class DefectivePart(models.Model):
    """A part removed from a machine on a visit: owed by the engineer until a warehouse receives it,
    then sent to the factory, whose finding feeds the quality analysis."""

    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="defects")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit = models.ForeignKey(
        SerialUnit, verbose_name=_("serial unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    serial = models.CharField(_("serial number"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=DefectStatus.choices, default=DefectStatus.OWED)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("engineer"), on_delete=models.PROTECT, related_name="owed_parts"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="defects"
    )
    work_order_id = models.BigIntegerField(_("work order"), null=True, blank=True, db_index=True)
    work_order_number = models.CharField(_("work order"), max_length=32, blank=True)
    equipment_id = models.BigIntegerField(_("machine"), null=True, blank=True, db_index=True)
    equipment_label = models.CharField(_("machine"), max_length=100, blank=True)
    fault_category = models.CharField(_("fault category"), max_length=100, blank=True)
    removed_at = models.DateTimeField(_("removed"), default=timezone.now)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    return_transfer = models.ForeignKey(
        Transfer, verbose_name=_("return"), on_delete=models.SET_NULL, null=True, blank=True, related_name="defects"
    )

    class Meta:
        verbose_name = _("defective part")
        verbose_name_plural = _("defective parts")
        ordering = ["-removed_at", "-pk"]
        indexes = [models.Index(fields=["engineer", "status"], name="defect_engineer_status")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="defect_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.part.part_number} × {self.quantity.normalize()} ({self.work_order_number})"


class FactoryReturn(models.Model):
    """Defective parts sent back to the factory (RMA), and what the factory found."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="factory_returns"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=FactoryReturnStatus.choices, default=FactoryReturnStatus.DRAFT
    )
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("return to the factory")
        verbose_name_plural = _("returns to the factory")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class FactoryReturnLine(models.Model):
    factory_return = models.ForeignKey(
        FactoryReturn, verbose_name=_("return to the factory"), on_delete=models.CASCADE, related_name="lines"
    )
    defect = models.OneToOneField(
        DefectivePart, verbose_name=_("defective part"), on_delete=models.PROTECT, related_name="factory_line"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    finding = models.CharField(_("finding"), max_length=10, choices=Finding.choices, blank=True)
    credit = models.DecimalField(_("credit"), max_digits=12, decimal_places=2, default=ZERO)
    finding_note = models.CharField(_("finding note"), max_length=500, blank=True)
    found_at = models.DateTimeField(_("found"), null=True, blank=True)

    class Meta:
        verbose_name = _("returned part")
        verbose_name_plural = _("returned parts")
        ordering = ["factory_return", "pk"]
        constraints = [models.CheckConstraint(condition=Q(credit__gte=0), name="factory_line_credit_not_negative")]

    def __str__(self) -> str:
        return str(self.defect)


class StockCount(models.Model):
    """A count sheet (盘点) for one warehouse or van. A blind count hides the expected figures from
    the counter; posting writes every difference as an adjustment."""

    number = models.CharField(_("number"), max_length=20, unique=True, null=True, editable=False)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="counts"
    )
    status = models.CharField(_("status"), max_length=10, choices=CountStatus.choices, default=CountStatus.OPEN)
    blind = models.BooleanField(_("blind count"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse"], condition=Q(status=CountStatus.OPEN), name="stock_count_one_open_per_warehouse"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, verbose_name=_("stock count"), on_delete=models.CASCADE, related_name="lines")
    part = models.ForeignKey(Part, verbose_name=_("part"), on_delete=models.PROTECT, related_name="+")
    lot = models.CharField(_("lot"), max_length=64, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.GOOD)
    expected = models.DecimalField(_("expected"), **QUANTITY)
    counted = models.DecimalField(_("counted"), null=True, blank=True, **QUANTITY)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["count", "part__part_number", "lot", "grade"]
        constraints = [
            models.UniqueConstraint(fields=["count", "part", "lot", "grade"], name="stock_count_line_unique"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0), name="stock_count_line_counted_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part.part_number}"

    @property
    def difference(self) -> Decimal | None:
        return None if self.counted is None else self.counted - self.expected
