"""`fsm load_holidays`: load a year's public holidays and adjusted working days into a calendar.

fsm load_holidays --year 2026                      # the shipped Chinese list, default calendar
fsm load_holidays --calendar "24×7" --file my.json # {"year": 2027, "holidays": [{"date", "kind", "name"}]}
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from fieldservice.sla import services
from fieldservice.sla.models import BusinessCalendar


class Command(BaseCommand):
    help = "Replace a calendar's holidays of a year with a JSON list (or the shipped Chinese list of --year)."

    def add_arguments(self, parser):
        parser.add_argument("--calendar", help="Calendar name (default: the default calendar).")
        parser.add_argument("--file", help='JSON file: {"year": 2027, "holidays": [{"date", "kind", "name"}]}.')
        parser.add_argument(
            "--year", type=int, help="Year: of the shipped Chinese list, or the only year --file may hold."
        )

    def handle(self, *args, calendar=None, file=None, year=None, **options):
        if not file and not year:
            raise CommandError("Give --file, or --year for the shipped list.")
        if calendar:
            target = BusinessCalendar.objects.filter(name=calendar).first()
        else:
            target = BusinessCalendar.objects.filter(is_default=True).first()
        if target is None:
            raise CommandError(f"No calendar {calendar!r}." if calendar else "There is no default calendar.")
        try:
            if file:
                file_year, entries = services.read_holiday_file(Path(file))
                count = services.load_holidays(target, actor=None, entries=entries, year=year or file_year)
            else:
                count = services.load_shipped_holidays(target, actor=None, year=year)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"{target.name}: {count} holidays and adjusted working days loaded.")
