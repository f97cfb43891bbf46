"""`fsm stock_check`: recompute every balance from the ledger and report the ones that differ.

The balances are kept by `services.ledger.post` alone; a difference means something wrote stock
behind the ledger's back (a hand-edited row, a restore of one table). Exits non-zero when any
balance differs, so a scheduled run can alert.
"""

from django.core.management.base import BaseCommand, CommandError

from fieldservice.inventory import services
from fieldservice.inventory.models import Part, Warehouse


def _figure(value) -> str:
    return format(value.normalize(), "f")


class Command(BaseCommand):
    help = "Recompute every stock balance from the ledger; list the balances that differ (exit 1 if any)."

    def handle(self, *args, **options):
        found = services.drift()
        if not found:
            self.stdout.write("0 balances differ")
            return
        warehouses = dict(Warehouse.objects.filter(pk__in={row["key"][0] for row in found}).values_list("pk", "code"))
        parts = dict(Part.objects.filter(pk__in={row["key"][1] for row in found}).values_list("pk", "part_number"))
        for row in found:
            warehouse_id, part_id, lot, grade = row["key"]
            place = f"{warehouses.get(warehouse_id, warehouse_id)} {parts.get(part_id, part_id)}"
            if lot:
                place += f" lot {lot}"
            ledger_on_hand, ledger_reserved = row["ledger"]
            if row["balance"] is None:
                balance = "no balance row"
            else:
                on_hand, reserved = row["balance"]
                balance = f"on hand {_figure(on_hand)}, reserved {_figure(reserved)}"
            self.stdout.write(
                f"{place} ({grade}): balance {balance}; "
                f"ledger on hand {_figure(ledger_on_hand)}, reserved {_figure(ledger_reserved)}"
            )
        raise CommandError(
            f"{len(found)} balance{'s' if len(found) != 1 else ''} differ{'' if len(found) != 1 else 's'}"
        )
