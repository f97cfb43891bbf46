"""Solomon VRPTW instances through the day-plan optimiser's own code path.

    .venv/bin/python bench/solomon.py --data ../shared/benchdata/solomon --time 10 [C101 R101 ...]

An adapter turns each instance into the product's planning input (`planning.optimiser.Problem`): one job
per customer (window on the start of service, service time as duration, demand as used-up load), one
engineer per vehicle of the instance's fleet (home at the depot, the depot's hours as the shift, the
capacity as the load he can carry), and an explicit travel matrix: Euclidean distance truncated to one
decimal, travel time = distance (the convention of the distance-only best-known column). Times are
scaled by 10 so that every number is whole. The objective is distance only.

For each instance the script prints the distance, the vehicles used, the gap to
`distonly_trunc1_distance` in bks.csv, and the verdict of its own feasibility check (written here,
independent of the optimiser): every customer exactly once, capacity per route, every start inside its
window, back at the depot by its closing time, at most the fleet. It ends with
`mean gap: X.XX% over N instances, infeasible: K` (an instance without a complete feasible answer counts
as infeasible and is left out of the mean).
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import gaplib  # noqa: E402 - beside this script

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

SCALE = 10  # one decimal


@dataclass
class Instance:
    name: str
    fleet: int
    capacity: int
    nodes: list[tuple[int, int, int, int, int, int, int]]  # number, x, y, demand, ready, due, service


def read_instance(path: Path) -> Instance:
    lines = [line.split() for line in path.read_text().splitlines()]
    name = lines[0][0]
    fleet = capacity = None
    nodes = []
    for i, parts in enumerate(lines):
        if parts[:2] == ["NUMBER", "CAPACITY"]:
            fleet, capacity = int(lines[i + 1][0]), int(lines[i + 1][1])
        elif len(parts) == 7 and all(p.lstrip("-").replace(".", "", 1).isdigit() for p in parts):
            nodes.append(tuple(int(float(p)) for p in parts))
    if fleet is None or not nodes or nodes[0][0] != 0:
        raise ValueError(f"{path}: not a Solomon instance")
    return Instance(name, fleet, capacity, nodes)


def arc(a, b) -> int:
    """Euclidean distance truncated to one decimal, in tenths."""
    return math.floor(SCALE * math.sqrt((a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2))


# --- adapter: instance -> planning input --------------------------------------------------------------


def to_problem(instance: Instance):
    import numpy as np

    from fieldservice.planning.optimiser import ExplicitMatrix, Job, Objective, Problem, Resource, TimeWindow

    depot = instance.nodes[0]
    shift = TimeWindow(depot[4] * SCALE, depot[5] * SCALE)
    resources = [
        Resource(id=f"vehicle-{k + 1}", start=0, shift=shift, capacity={"load": instance.capacity})
        for k in range(instance.fleet)
    ]
    jobs = [
        Job(
            id=str(number),
            location=number,
            duration=service * SCALE,
            windows=(TimeWindow(ready * SCALE, due * SCALE),),
            demand={"load": demand},
        )
        for number, _x, _y, demand, ready, due, service in instance.nodes[1:]
    ]
    keys = [node[0] for node in instance.nodes]
    matrix = np.array([[arc(a, b) for b in instance.nodes] for a in instance.nodes], dtype=np.int64)
    objective = Objective(travel_time_cost=0, distance_cost=1, late_cost=0)
    return Problem(tuple(jobs), tuple(resources), objective=objective), ExplicitMatrix(keys, matrix, matrix)


# --- independent check --------------------------------------------------------------------------------


def check(instance: Instance, routes: list[list[int]]) -> tuple[list[str], int]:
    """Problems found in `routes` (customer numbers per vehicle) and their distance in tenths."""
    problems = []
    by_number = {node[0]: node for node in instance.nodes}
    depot = instance.nodes[0]
    served = [number for route in routes for number in route]
    customers = {node[0] for node in instance.nodes[1:]}
    if sorted(served) != sorted(customers):
        missing = customers - set(served)
        twice = {n for n in served if served.count(n) > 1}
        problems.append(f"customers missing {sorted(missing)[:5]} or twice {sorted(twice)[:5]}")
    if len(routes) > instance.fleet:
        problems.append(f"{len(routes)} routes for a fleet of {instance.fleet}")
    total = 0
    for k, route in enumerate(routes):
        load = sum(by_number[n][3] for n in route if n in by_number)
        if load > instance.capacity:
            problems.append(f"route {k}: load {load} > {instance.capacity}")
        clock, here = depot[4] * SCALE, depot
        for number in route:
            node = by_number.get(number)
            if node is None:
                problems.append(f"route {k}: unknown customer {number}")
                break
            leg = arc(here, node)
            total += leg
            start = max(clock + leg, node[4] * SCALE)
            if start > node[5] * SCALE:
                problems.append(f"route {k}: customer {number} starts at {start / SCALE} after {node[5]}")
            clock, here = start + node[6] * SCALE, node
        leg = arc(here, depot)
        total += leg
        if clock + leg > depot[5] * SCALE:
            problems.append(f"route {k}: back at {(clock + leg) / SCALE} after {depot[5]}")
    return problems, total


def main() -> int:
    args = gaplib.arguments(__doc__.split("\n\n")[0], data="solomon", seconds=10.0)

    import django

    django.setup()
    from fieldservice.planning.optimiser import solve

    best_known = gaplib.best_known(args.data, "distonly_trunc1_distance")
    names = gaplib.instance_names(args)

    print(f"{'instance':<10}{'distance':>10}{'best':>10}{'gap':>8}{'vehicles':>9}{'time s':>8}  check")
    tally = gaplib.GapTally()
    for name in names:
        instance = read_instance(args.data / "instances" / f"{name}.txt")
        problem, matrix = to_problem(instance)
        started = time.perf_counter()
        try:
            plan = solve(problem, time_limit=args.time, seed=args.seed, travel=matrix)
        except Exception as error:  # one broken instance must not hide the others' figures
            print(f"{name:<10}{'-':>10}{'-':>10}{'-':>8}{'-':>9}{'-':>8}  NO ANSWER ({error})")
            tally.no_answer()
            continue
        elapsed = time.perf_counter() - started
        routes = [[int(job_id) for job_id in route.job_ids] for route in plan.routes]
        problems, tenths = check(instance, routes)
        distance = tenths / SCALE
        best = best_known.get(name)
        gap, verdict = tally.record(distance, best, problems)
        print(
            f"{name:<10}{distance:>10.1f}{best or float('nan'):>10.1f}{gap:>7.2f}%{len(routes):>9}"
            f"{elapsed:>8.1f}  {verdict}",
            flush=True,
        )
    print(tally.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
