"""A finished plan as the JSON a run keeps: per engineer the current and the proposed day, what moves,
the travel before and after, and the orders left out with the reason (as a code: the page translates it
into the reader's language)."""

from __future__ import annotations

from fieldservice.planning.inputs import Built
from fieldservice.planning.optimiser import GeoPoint, Plan, VisitKind, default_source
from fieldservice.planning.optimiser.travel import TravelSource


def travel_of_current(built: Built, source: TravelSource | None = None) -> dict[str, int]:
    """Seconds of driving per engineer for his planned visits that day as they stand (home, the visits in
    time order, home); a visit without coordinates is skipped."""
    resources = {r.id: r for r in built.problem.resources}
    points: dict = {}
    legs: dict[str, list] = {}
    for rid, visits in built.current.items():
        resource = resources.get(rid)
        if resource is None or resource.start is None:
            continue
        places = [GeoPoint(*v["location"]) for v in visits if v["location"] is not None]
        if not places:
            continue
        route = [resource.start, *places, resource.end_location]
        legs[rid] = route
        for point in route:
            points[point] = None
    if not points:
        return {}
    keys = list(points)
    index = {p: i for i, p in enumerate(keys)}
    matrix = (source or default_source()).matrix(keys)
    return {
        rid: int(sum(matrix.durations[index[a], index[b]] for a, b in zip(route, route[1:], strict=False)))
        for rid, route in legs.items()
    }


def _decide_left_out_visits(built: Built, engineers: list[dict], unplannable: list[dict]) -> None:
    """What applying does to the visit an order left out of the plan already has that day.

    The optimiser was free to use that time (the order was one of its jobs), so keeping the visit can
    put the engineer in two places at once. A visit that overlaps nothing in its engineer's new day
    (planned, fixed, or another left-out visit kept before it) is kept as it is; one that does is taken
    off the calendar and the order waits, with its engineer, for a new date. A visit of an engineer
    outside the run is kept: the plan does not touch his day."""
    current = {item["order_id"]: (rid, item) for rid, items in built.current.items() for item in items}
    busy = {
        e["key"]: [(s["start"], s["end"], s["number"]) for s in e["proposed"] if s["kind"] == "job"] for e in engineers
    }
    names = {f"e{engineer.pk}": str(engineer) for engineer in built.off_engineers}
    names.update((rid, str(engineer)) for rid, engineer in built.engineers.items())
    for entry in sorted(unplannable, key=lambda u: current.get(u["order_id"], ("", {"start": 0}))[1]["start"]):
        if entry["order_id"] not in current:
            continue
        rid, visit = current[entry["order_id"]]
        taken = busy.setdefault(rid, [])
        clashes = sorted({n for s, e, n in taken if s < visit["end"] and e > visit["start"]})
        if not clashes:
            taken.append((visit["start"], visit["end"], entry["number"]))
        entry["visit"] = {
            "action": "unscheduled" if clashes else "kept",
            "engineer": names.get(rid, ""),
            "start": visit["start"],
            "end": visit["end"],
            "clashes": clashes,
        }


def build_proposal(built: Built, plan: Plan, travel_before: dict[str, int]) -> dict:
    engineers = []
    proposed_at: dict[int, tuple[str, int]] = {}
    for rid, engineer in built.engineers.items():
        route = plan.route_for(rid)
        stops = []
        if route is not None:
            for visit in route.visits:
                if visit.kind == VisitKind.JOB:
                    info = built.jobs[visit.job_id]
                    stops.append(
                        {
                            "kind": "job",
                            "order_id": info.order_id,
                            "number": info.number,
                            "start": visit.start,
                            "end": visit.end,
                            "travel": visit.travel_time,
                            "fixed": info.fixed,
                        }
                    )
                    proposed_at[info.order_id] = (rid, visit.start)
                elif visit.kind == VisitKind.BREAK:
                    kept = [
                        item
                        for item in built.fixed.get(rid, [])
                        if item["start"] < visit.end and item["end"] > visit.start
                    ]
                    stops.extend({"kind": "job", **item, "travel": 0, "fixed": True} for item in kept)
                    if not kept:
                        stops.append({"kind": "break", "start": visit.start, "end": visit.end, "travel": 0})
        shift = built.shifts[rid]
        engineers.append(
            {
                "id": engineer.pk,
                "key": rid,
                "name": str(engineer),
                "shift": list(shift),
                "current": [{k: v for k, v in item.items() if k != "location"} for item in built.current.get(rid, [])],
                "proposed": stops,
                "travel_before": travel_before.get(rid, 0),
                "travel_after": route.travel_time if route is not None else 0,
            }
        )
    names = {rid: str(e) for rid, e in built.engineers.items()}
    current_at = {item["order_id"]: (rid, item["start"]) for rid, items in built.current.items() for item in items}
    moves = []
    for job_id, info in built.jobs.items():
        if info.fixed or info.order_id not in proposed_at:
            continue
        to_rid, to_start = proposed_at[info.order_id]
        from_rid, from_start = current_at.get(info.order_id, (None, None))
        if from_rid is None and info.current_engineer_id is not None:
            from_rid = f"e{info.current_engineer_id}"
        if from_rid == to_rid and from_start == to_start:
            continue
        moves.append(
            {
                "order_id": info.order_id,
                "number": info.number,
                "job": job_id,
                "from_engineer": names.get(from_rid, "") if from_rid else "",
                "from_engineer_key": from_rid,
                "from_start": from_start,
                "to_engineer": names[to_rid],
                "to_engineer_key": to_rid,
                "to_start": to_start,
                "duration_minutes": info.duration_minutes,
            }
        )
    moves.sort(key=lambda m: (m["to_engineer"], m["to_start"]))
    unplannable = [
        {
            "order_id": built.jobs[item.job_id].order_id,
            "number": built.jobs[item.job_id].number,
            "code": item.code,
            "reason": item.reason,
            "visit": None,
        }
        for item in plan.unplanned
    ]
    _decide_left_out_visits(built, engineers, unplannable)
    skipped = [
        {"name": names.get(item.resource_id, item.resource_id), "code": item.code, "reason": item.reason}
        for item in plan.skipped_resources
    ]
    skipped += [{"name": str(e), "code": "off", "reason": "Not working that day."} for e in built.off_engineers]
    shifts = built.shifts.values()
    horizon = [min((s for s, _e in shifts), default=0), max((e for _s, e in shifts), default=0)]
    return {
        "day_start": built.start.isoformat(),
        "horizon": horizon,
        "engineers": engineers,
        "moves": moves,
        "unplannable": unplannable,
        "skipped_engineers": skipped,
        "warnings": list(plan.warnings),
        "travel_before": sum(travel_before.values()),
        "travel_after": plan.travel_time,
        "served": sum(len(route.job_ids) for route in plan.routes),
    }
