"""The parts an order probably needs, so that dispatch can prefer an engineer who carries them.

A new order lists its fault category's usual parts (source "fault category"); the desk sets the
list afterwards (source "agent"). Dispatch and planning read the list; nothing here moves stock.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import field_error, require
from fieldservice.inventory.models import Part
from fieldservice.inventory.services import quantity_of
from fieldservice.workorders.choices import NeededPartSource
from fieldservice.workorders.models import FaultCategoryPart, NeededPart, WorkOrder
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.log import log_event

MAX_NEEDED_PARTS = 50
# The column holds 10 digits, 3 of them decimals.
MAX_QUANTITY = Decimal("9999999.999")


def fill_from_fault_category(order: WorkOrder) -> None:
    """List the order's fault category's usual parts on a new order: one INSERT ... SELECT."""
    if order.fault_category_id is None:
        return
    needed = NeededPart._meta
    usual = FaultCategoryPart._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {needed.db_table} (work_order_id, part_id, quantity, source, added_at) "  # noqa: S608
            f"SELECT %s, part_id, quantity, %s, %s FROM {usual.db_table} WHERE category_id = %s",
            [order.pk, NeededPartSource.FAULT_CATEGORY.value, timezone.now(), order.fault_category_id],
        )


@transaction.atomic
def set_needed_parts(order: WorkOrder, *, actor: User, parts: list[tuple[Part, object]]) -> list[NeededPart]:
    """Set the order's needed parts to `parts` ((part, quantity) pairs; an empty list clears them).

    The list given is the whole list: a part left out is no longer needed, whatever listed it. A
    part suggested by the fault category and kept with the same quantity keeps its source; every
    other row becomes the agent's."""
    require(may_manage_orders(actor))
    if len(parts) > MAX_NEEDED_PARTS:
        raise field_error(
            "parts", _("At most %(count)s parts may be listed.") % {"count": MAX_NEEDED_PARTS}, "too_many"
        )
    wanted: dict[int, tuple[Part, Decimal]] = {}
    for index, (part, quantity) in enumerate(parts):
        amount = quantity_of(quantity, f"parts[{index}].quantity")
        if amount > MAX_QUANTITY:
            raise field_error(f"parts[{index}].quantity", _("Enter a quantity like 2 or 2.5."), "invalid")
        if part.pk in wanted:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is listed twice.") % {"part": part.part_number}, "duplicate"
            )
        if not part.is_active:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is no longer used.") % {"part": part.part_number}, "inactive"
            )
        wanted[part.pk] = (part, amount)
    # Lock the order so two desks setting the list at once do not interleave their rows.
    WorkOrder.objects.select_for_update().filter(pk=order.pk).first()
    current = {row.part_id: row for row in NeededPart.objects.filter(work_order=order)}
    before = {part_id: row.quantity for part_id, row in current.items()}
    kept = {
        part_id
        for part_id, row in current.items()
        if part_id in wanted and row.source != NeededPartSource.AGENT and row.quantity == wanted[part_id][1]
    }
    NeededPart.objects.filter(work_order=order).exclude(part_id__in=kept).delete()
    now = timezone.now()
    NeededPart.objects.bulk_create(
        [
            NeededPart(
                work_order=order,
                part=part,
                quantity=amount,
                source=NeededPartSource.AGENT,
                added_by=actor,
                added_at=now,
            )
            for part_id, (part, amount) in wanted.items()
            if part_id not in kept
        ]
    )
    after = {part_id: amount for part_id, (_part, amount) in wanted.items()}
    if after != before:
        log_event(
            order,
            actor=actor,
            action="needed_parts",
            note=", ".join(f"{part.part_number} × {amount.normalize()}" for part, amount in wanted.values()),
            payload={"parts": {str(part_id): str(amount) for part_id, amount in after.items()}},
        )
    return list(NeededPart.objects.filter(work_order=order).select_related("part"))
