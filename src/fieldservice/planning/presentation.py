"""A run's proposal as the page shows it: bars positioned by time on one axis for the current plan and
the proposal of each engineer, the moves with clock times, travel saved, and the reasons in the reader's
language (the run keeps codes, so a page in Chinese reads Chinese whoever ran it)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fieldservice.planning.optimiser.prepare import REASON_CODES, reason


def reason_text(code: str, fallback: str = "") -> str:
    if code == "off":
        return _("Not working that day.")
    if code in REASON_CODES:
        return reason(code)
    return fallback


def clock(seconds: int | None) -> str:
    if seconds is None:
        return ""
    day, rest = divmod(int(seconds), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text if day == 0 else f"{text} ({day:+d})"


def minutes(seconds: int) -> int:
    return round(seconds / 60)


def left_out_visit_text(visit: dict | None) -> str:
    """What applying does to the visit of an order the plan leaves out (see proposal._decide_left_out_visits)."""
    if not visit:
        return _("It has no visit that day: applying changes nothing for it.")
    values = {"engineer": visit["engineer"], "start": clock(visit["start"]), "end": clock(visit["end"])}
    if visit["action"] == "unscheduled":
        values["orders"] = ", ".join(visit["clashes"])
        return (
            _(
                "Applying takes its visit (%(engineer)s, %(start)s–%(end)s) off the calendar: it overlaps "
                "%(orders)s in the proposal. The order keeps its engineer and needs a new date."
            )
            % values
        )
    kept = _("Its visit (%(engineer)s, %(start)s–%(end)s) is kept as it is: it overlaps nothing in the proposal.")
    return kept % values


def _bars(items, start: int, span: int, *, current: bool) -> list[dict]:
    bars = []
    for item in items:
        left = max(0.0, (item["start"] - start) / span * 100)
        width = max(0.6, (item["end"] - item["start"]) / span * 100)
        kind = item.get("kind", "job")
        bars.append(
            {
                "left": f"{left:.2f}",
                "width": f"{min(width, 100 - left):.2f}",
                "kind": "break" if kind == "break" else ("fixed" if item.get("fixed") else "job"),
                "label": item.get("number") or _("Break"),
                "title": f"{item.get('number') or _('Break')} {clock(item['start'])}–{clock(item['end'])}",
                "current": current,
            }
        )
    return bars


def model_text(model: dict) -> str:
    if model.get("kind") == "great_circle":
        return _("straight-line distance × %(factor)s (road factor), driven at %(speed)s km/h") % {
            "factor": f"{model['road_factor']:g}",
            "speed": f"{model['speed_kmh']:g}",
        }
    if model.get("kind") == "osrm":
        return _("driving times of the road network (OSRM)")
    return _("the configured travel times")


def comparison_notes(comparison: dict) -> dict:
    """The sentences that say what each travel figure counts (see proposal.compare_travel)."""
    count = comparison["orders"]
    counted = ngettext(
        "counting the same %(count)s order in both",
        "counting the same %(count)s orders in both",
        count,
    ) % {"count": count}
    apart = []
    if comparison["new_orders"]:
        apart.append(
            ngettext(
                "%(count)s order the proposal adds to these engineers' day",
                "%(count)s orders the proposal adds to these engineers' day",
                comparison["new_orders"],
            )
            % {"count": comparison["new_orders"]}
        )
    if comparison["dropped_orders"]:
        apart.append(
            ngettext(
                "%(count)s order whose visit applying takes off the calendar",
                "%(count)s orders whose visits applying takes off the calendar",
                comparison["dropped_orders"],
            )
            % {"count": comparison["dropped_orders"]}
        )
    if comparison["no_location"]:
        apart.append(
            ngettext(
                "%(count)s order at a site without coordinates",
                "%(count)s orders at sites without coordinates",
                comparison["no_location"],
            )
            % {"count": comparison["no_location"]}
        )
    return {
        "counted": counted,
        "apart": "; ".join(apart),
        "before_all": minutes(comparison["before_all"]),
        "after_all": minutes(comparison["after_all"]),
        "model": model_text(comparison.get("model", {})),
        "warnings": comparison.get("warnings", []),
    }


def describe(run) -> dict | None:
    proposal = run.proposal or {}
    if not proposal.get("engineers"):
        return None
    items = [i for e in proposal["engineers"] for i in e["current"] + e["proposed"]]
    start = min([proposal["horizon"][0]] + [i["start"] for i in items])
    end = max([proposal["horizon"][1]] + [i["end"] for i in items])
    start, end = start - start % 3600, end + (-end) % 3600
    span = max(end - start, 3600)
    hours = [{"left": f"{(h - start) / span * 100:.2f}", "label": clock(h)} for h in range(start, end + 1, 3600)]
    engineers = [
        {
            "name": e["name"],
            "current": _bars(e["current"], start, span, current=True),
            "proposed": _bars(e["proposed"], start, span, current=False),
            "shift": clock(e["shift"][0]) + "–" + clock(e["shift"][1]),
            "travel_before": minutes(e["travel_before"]),
            "travel_after": minutes(e["travel_after"]),
        }
        for e in proposal["engineers"]
    ]
    moves = [
        {
            "number": m["number"],
            "order_id": m["order_id"],
            "from_engineer": m["from_engineer"],
            "from_start": clock(m["from_start"]),
            "to_engineer": m["to_engineer"],
            "to_start": clock(m["to_start"]),
        }
        for m in proposal.get("moves", [])
    ]
    unplannable = [
        {
            "number": u["number"],
            "order_id": u["order_id"],
            "reason": reason_text(u["code"], u["reason"]),
            "visit": left_out_visit_text(u.get("visit")),
            "unscheduled": (u.get("visit") or {}).get("action") == "unscheduled",
        }
        for u in proposal.get("unplannable", [])
    ]
    skipped = [
        {"name": s["name"], "reason": reason_text(s["code"], s["reason"])} for s in proposal["skipped_engineers"]
    ]
    before, after = proposal["travel_before"], proposal["travel_after"]
    return {
        "hours": hours,
        "engineers": engineers,
        "moves": moves,
        "unplannable": unplannable,
        "skipped": skipped,
        "warnings": proposal.get("warnings", []),
        "travel_before": minutes(before),
        "travel_after": minutes(after),
        # Without an order in both days there is nothing to compare: the page says so instead of a saving.
        "has_current": (proposal["comparison"]["orders"] > 0)
        if "comparison" in proposal
        else any(e["current"] for e in proposal["engineers"]),
        "comparison": comparison_notes(proposal["comparison"]) if "comparison" in proposal else None,
        "travel_saved": minutes(before - after),
        "served": proposal.get("served", 0),
    }
