"""A finished plan as the JSON a run keeps: per engineer the current and the proposed day, what moves,
the travel before and after, and the orders left out with the reason (as a code: the page translates it
into the reader's language)."""

from __future__ import annotations

from fieldservice.planning.inputs import Built
from fieldservice.planning.optimiser import GeoPoint, Plan, VisitKind, default_source
from fieldservice.planning.optimiser.travel import GreatCircle, OsrmTable, TravelSource


def travel_model(source: TravelSource) -> dict:
    """What the travel figures were computed with, for the page to say."""
    if isinstance(source, GreatCircle):
        return {"kind": "great_circle", "road_factor": source.road_factor, "speed_kmh": source.speed_kmh}
    if isinstance(source, OsrmTable):
        return {"kind": "osrm"}
    return {"kind": "other"}


def compare_travel(built: Built, moves: list[dict], unplannable: list[dict], source: TravelSource) -> dict:
    """The driving of the day as it stands and of the day as applying would leave it, like with like.

    Both days are built the way apply writes them: every planned visit of the run's engineers that day,
    the moves at their new engineer and start, the visits applying takes off the calendar gone. An
    engineer's driving is from his home base through his visits in time order and back home (between
    his visits only, when he has no home base). The saving compares the two over the same orders, those
    with a site with coordinates that have a visit in both days, with one travel matrix; the orders only
    one day has (new in the proposal, or taken off) are counted apart."""
    where: dict[int, GeoPoint] = {}
    for job in built.problem.jobs:
        if job.location is not None:
            where[built.jobs[job.id].order_id] = job.location
    for items in built.current.values():
        for item in items:
            if item["location"] is not None:
                where.setdefault(item["order_id"], GeoPoint(*item["location"]))
    homes = {r.id: (r.start, r.end_location) for r in built.problem.resources if r.start is not None}
    now = {rid: [(item["start"], item["order_id"]) for item in items] for rid, items in built.current.items()}
    moved = {m["order_id"]: (m["to_engineer_key"], m["to_start"]) for m in moves}
    dropped = {u["order_id"] for u in unplannable if (u.get("visit") or {}).get("action") == "unscheduled"}
    after: dict[str, list[tuple[int, int]]] = {}
    for rid, items in now.items():
        after.setdefault(rid, []).extend(item for item in items if item[1] not in moved and item[1] not in dropped)
    for order_id, (rid, start) in moved.items():
        after.setdefault(rid, []).append((start, order_id))
    in_now = {order_id for items in now.values() for _start, order_id in items}
    in_after = {order_id for items in after.values() for _start, order_id in items}
    common = in_now & in_after & set(where)
    keys = list(dict.fromkeys([*(p for pair in homes.values() for p in pair if p is not None), *where.values()]))
    matrix = source.matrix(keys) if keys else None
    index = {point: i for i, point in enumerate(keys)}

    def drive(rid: str, stops: list[tuple[int, int]], counted: set[int]) -> int:
        places = [where[order_id] for _start, order_id in sorted(stops) if order_id in counted]
        if not places:
            return 0
        home, back = homes.get(rid, (None, None))
        route = [*([home] if home else []), *places, *([back] if back else [])]
        return int(sum(matrix.durations[index[a], index[b]] for a, b in zip(route, route[1:], strict=False)))

    per_engineer = {
        rid: [drive(rid, now.get(rid, []), common), drive(rid, after.get(rid, []), common)] for rid in built.engineers
    }
    everyone = set(now) | set(after)
    return {
        "orders": len(common),
        "before": sum(drive(rid, now.get(rid, []), common) for rid in everyone),
        "after": sum(drive(rid, after.get(rid, []), common) for rid in everyone),
        "per_engineer": per_engineer,
        "new_orders": len((in_after - in_now) & set(where)),
        "after_all": sum(drive(rid, after.get(rid, []), set(where)) for rid in everyone),
        "dropped_orders": len((in_now - in_after) & set(where)),
        "before_all": sum(drive(rid, now.get(rid, []), set(where)) for rid in everyone),
        "no_location": len((in_now | in_after) - set(where)),
        "model": travel_model(source),
        "warnings": list(matrix.warnings) if matrix is not None else [],
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
            # The kept visit is part of the engineer's new day: the proposal's Gantt row shows it.
            for engineer in engineers:
                if engineer["key"] == rid:
                    engineer["proposed"].append(
                        {
                            "kind": "job",
                            "order_id": entry["order_id"],
                            "number": entry["number"],
                            "start": visit["start"],
                            "end": visit["end"],
                            "travel": 0,
                            "fixed": True,
                            "kept": True,
                        }
                    )
                    engineer["proposed"].sort(key=lambda stop: stop["start"])
        entry["visit"] = {
            "action": "unscheduled" if clashes else "kept",
            "engineer": names.get(rid, ""),
            "start": visit["start"],
            "end": visit["end"],
            "clashes": clashes,
        }


def build_proposal(built: Built, plan: Plan, source: TravelSource | None = None) -> dict:
    """`source` must be the travel model the plan was made with: the comparison measures both days with it."""
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
    comparison = compare_travel(built, moves, unplannable, source or default_source())
    for engineer in engineers:
        engineer["travel_before"], engineer["travel_after"] = comparison["per_engineer"].get(engineer["key"], (0, 0))
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
        # The figures the page compares (see compare_travel): the same orders, one travel model.
        "travel_before": comparison["before"],
        "travel_after": comparison["after"],
        "comparison": comparison,
        "served": sum(len(route.job_ids) for route in plan.routes),
    }
