"""`fsm workers`: the running workers, what each is running, and the dead ones not yet buried."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fieldservice.core import workers


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def describe_task(held: dict, now) -> str:
    arguments = ", ".join([*(repr(a) for a in held["args"]), *(f"{k}={v!r}" for k, v in held["kwargs"].items())])
    text = f"{held['task']}({arguments})"
    if held.get("started_at"):
        text += " " + _("for %(seconds)d s") % {"seconds": (now - held["started_at"]).total_seconds()}
    return text


class Command(BaseCommand):
    help = "List the running workers and what each runs; --bury declares the silent ones dead now."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bury",
            action="store_true",
            help="Run the dead-worker recovery now: fail and enqueue again what the dead workers ran.",
        )

    def handle(self, *args, bury=False, **options):
        if bury:
            buried = workers.bury_dead()
            if buried:
                self.stdout.write(
                    ngettext(
                        "Buried %(count)d dead worker: %(names)s; the tasks it ran are enqueued again.",
                        "Buried %(count)d dead workers: %(names)s; the tasks they ran are enqueued again.",
                        len(buried),
                    )
                    % {"count": len(buried), "names": ", ".join(buried)}
                )
            else:
                self.stdout.write(_("No dead worker to bury."))
        now = timezone.now()
        self._section(_("Running workers"), workers.live_workers(now), now)
        self.stdout.write("")
        self._section(_("Dead workers, not yet buried"), workers.dead_workers(now), now)
        orphans = workers.orphaned_tasks()
        if orphans:
            self.stdout.write("")
            self.stdout.write(_("Tasks running under a worker that has no heartbeat:"))
            for held in orphans:
                self.stdout.write(f"  {held['worker'] or '?'}: {describe_task(held, now)}")

    def _section(self, title: str, infos: list, now) -> None:
        self.stdout.write(f"{title} ({len(infos)})")
        if not infos:
            return
        header = [_("name"), _("host"), _("pid"), _("backend"), _("queues"), _("last beat"), _("running")]
        rows = []
        for info in infos:
            running = [describe_task(held, now) for held in info.holds] or ["-"]
            rows.append(
                [
                    info.name,
                    info.host,
                    str(info.pid),
                    info.backend,
                    ",".join(info.queues),
                    _("%(seconds).0f s ago") % {"seconds": info.silent_seconds},
                    running[0],
                ]
            )
            rows.extend([""] * 6 + [more] for more in running[1:])
        for line in table(header, rows):
            self.stdout.write("  " + line)
