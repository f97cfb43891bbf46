"""Technician routing and scheduling (Pillac, Guéret, Medaglia 2013) through the day-plan optimiser.

    .venv/bin/python bench/trsp.py --data ../shared/benchdata/trsp --time 30 [C101.100_25-5-5-5 ...]

An adapter turns each instance into the product's planning input (`planning.optimiser.Problem`):
- node 0 is the central depot (a `Depot`: one visit gives every tool and refills the parts),
  nodes 1..25 are the technicians (an engineer each: home, the home's time window as the shift,
  skills, tools, spare parts as stock), the other nodes are requests (a job each: window on the start
  of service, service time, required skills, tools, parts used up);
- travel time = Euclidean distance, unrounded: given to the optimiser as an explicit matrix in
  thousandths, rounded up (so a plan that holds there holds on the real distances);
- objective: total working duration (working_time_cost = 1, nothing else).

The check here is independent of the optimiser: every request served exactly once, by a technician
holding all its skills, with its tools and parts (from the start or after a depot visit), every start
inside its window, home by the end of the home's window; and it recomputes each route's duration on the
unrounded distances the way the best-known table counts it: return home minus the latest departure that
does not delay the return (waiting before the first visit does not count, waiting between visits does).
The script ends with `mean gap: X.XX% over N instances, infeasible: K`.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import gaplib  # noqa: E402 - beside this script

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

SCALE = 1000
EPS = 1e-6
ROW = re.compile(
    r"^\s*(\d+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+\[([^\]]*)\]\s*\[([^\]]*)\]\s*\[([^\]]*)\]"
)


@dataclass
class Node:
    id: int
    x: float
    y: float
    tw_start: float
    tw_end: float
    service: float
    skills: frozenset[int]
    tools: frozenset[int]
    parts: tuple[int, ...]


@dataclass
class Instance:
    name: str
    crew: int
    depot: Node
    technicians: list[Node]
    requests: list[Node]

    @property
    def nodes(self) -> dict[int, Node]:
        return {node.id: node for node in [self.depot, *self.technicians, *self.requests]}


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.replace(",", " ").split()]


def read_instance(path: Path) -> Instance:
    lines = path.read_text().splitlines()
    crew = None
    nodes = []
    for i, line in enumerate(lines):
        if line.startswith("CREW COUNT"):
            crew = int(lines[i + 1].split()[0])
        match = ROW.match(line)
        if match:
            number, x, y, tws, twe, service, skills, tools, parts = match.groups()
            nodes.append(
                Node(
                    int(number),
                    float(x),
                    float(y),
                    float(tws),
                    float(twe),
                    float(service),
                    frozenset(_ints(skills)),
                    frozenset(_ints(tools)),
                    tuple(_ints(parts)),
                )
            )
    if crew is None or not nodes or nodes[0].id != 0:
        raise ValueError(f"{path}: not a TRSP instance")
    return Instance(lines[0].strip(), crew, nodes[0], nodes[1 : crew + 1], nodes[crew + 1 :])


def dist(a: Node, b: Node) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


# --- adapter: instance -> planning input --------------------------------------------------------------


def to_problem(instance: Instance):
    import numpy as np

    from fieldservice.planning.optimiser import (
        Depot,
        ExplicitMatrix,
        Job,
        Objective,
        Problem,
        Resource,
        TimeWindow,
    )

    def window(node: Node) -> TimeWindow:
        return TimeWindow(math.floor(node.tw_start * SCALE), math.floor(node.tw_end * SCALE))

    n_parts = max(len(node.parts) for node in [*instance.technicians, *instance.requests])
    need = [sum(r.parts[p] for r in instance.requests if p < len(r.parts)) for p in range(n_parts)]
    resources = []
    for tech in instance.technicians:
        stock = {f"part{p}": tech.parts[p] if p < len(tech.parts) else 0 for p in range(n_parts)}
        resources.append(
            Resource(
                id=str(tech.id),
                start=tech.id,
                shift=window(tech),
                skills={f"skill{s}": 0 for s in tech.skills},
                tools={f"tool{t}" for t in tech.tools},
                # After the depot an engineer can carry whatever the day needs.
                capacity={key: max(amount, need[p]) for p, (key, amount) in enumerate(stock.items())},
                stock=stock,
            )
        )
    jobs = [
        Job(
            id=str(request.id),
            location=request.id,
            duration=round(request.service * SCALE),
            windows=(window(request),),
            skills={f"skill{s}": 0 for s in request.skills},
            tools={f"tool{t}" for t in request.tools},
            demand={f"part{p}": amount for p, amount in enumerate(request.parts) if amount},
        )
        for request in instance.requests
    ]
    nodes = [instance.depot, *instance.technicians, *instance.requests]
    matrix = np.array([[math.ceil(dist(a, b) * SCALE - 1e-9) for b in nodes] for a in nodes], dtype=np.int64)
    np.fill_diagonal(matrix, 0)
    depot = Depot(location=0, window=window(instance.depot), service=round(instance.depot.service * SCALE))
    objective = Objective(travel_time_cost=0, distance_cost=0, working_time_cost=1, late_cost=0)
    problem = Problem(tuple(jobs), tuple(resources), depot=depot, objective=objective)
    return problem, ExplicitMatrix([node.id for node in nodes], matrix, matrix)


# --- independent check --------------------------------------------------------------------------------


def check(instance: Instance, routes: dict[int, list[int]]) -> tuple[list[str], float, float]:
    """Problems in `routes` (technician -> node ids, 0 = the depot) and their total duration and distance."""
    problems: list[str] = []
    nodes = instance.nodes
    technicians = {tech.id: tech for tech in instance.technicians}
    served = [n for route in routes.values() for n in route if n != 0]
    expected = {r.id for r in instance.requests}
    if sorted(served) != sorted(expected):
        missing = expected - set(served)
        twice = {n for n in served if served.count(n) > 1}
        problems.append(f"requests missing {sorted(missing)[:5]} ({len(missing)}) or twice {sorted(twice)[:5]}")
    total_duration = total_distance = 0.0
    for tech_id, route in routes.items():
        tech = technicians.get(tech_id)
        if tech is None:
            problems.append(f"unknown technician {tech_id}")
            continue
        if not route:
            continue
        tools: set[int] | None = set(tech.tools)
        parts = list(tech.parts)
        here, clock = tech, tech.tw_start
        waiting = 0.0  # at every stop so far, the first included
        slack = math.inf  # how much later the technician could leave without breaking a window
        for node_id in route:
            node = nodes.get(node_id)
            if node is None or node_id in technicians:
                problems.append(f"tech {tech_id}: node {node_id} is not a request or the depot")
                break
            leg = dist(here, node)
            total_distance += leg
            arrival = clock + leg
            start = max(arrival, node.tw_start)
            if start > node.tw_end + EPS:
                problems.append(f"tech {tech_id}: node {node_id} starts at {start:.3f} after {node.tw_end}")
            waiting += start - arrival
            # Leaving d later delays this start by max(0, d - waiting up to here): it must stay in the window.
            slack = min(slack, node.tw_end - start + waiting)
            clock, here = start + node.service, node
            if node_id == 0:
                tools, parts = None, None
                continue
            if not node.skills <= tech.skills:
                problems.append(f"tech {tech_id}: lacks skills {sorted(node.skills - tech.skills)} for {node_id}")
            if tools is not None and not node.tools <= tools:
                problems.append(f"tech {tech_id}: lacks tools {sorted(node.tools - tools)} for {node_id}")
            if parts is not None:
                for p, amount in enumerate(node.parts):
                    have = parts[p] if p < len(parts) else 0
                    if amount > have:
                        problems.append(f"tech {tech_id}: short of part {p} at {node_id}")
                    elif p < len(parts):
                        parts[p] -= amount
        leg = dist(here, tech)
        total_distance += leg
        back = clock + leg
        if back > tech.tw_end + EPS:
            problems.append(f"tech {tech_id}: home at {back:.3f} after {tech.tw_end}")
        # Savelsbergh's forward time slack: leaving min(slack, waiting) later keeps the same return and
        # removes that much waiting (at least all of it before the first visit).
        total_duration += back - (tech.tw_start + min(slack, waiting))
    return problems, total_duration, total_distance


def main() -> int:
    args = gaplib.arguments(__doc__.split("\n\n")[0], data="trsp", seconds=30.0)

    import django

    django.setup()
    from fieldservice.planning.optimiser import VisitKind, solve

    best_known = gaplib.best_known(args.data, "duration")
    names = gaplib.instance_names(args)

    print(f"{'instance':<20}{'duration':>10}{'best':>10}{'gap':>8}{'techs':>6}{'depot':>6}{'time s':>8}  check")
    tally = gaplib.GapTally()
    for name in names:
        instance = read_instance(args.data / "instances" / f"{name}.txt")
        problem, matrix = to_problem(instance)
        started = time.perf_counter()
        try:
            plan = solve(problem, time_limit=args.time, seed=args.seed, travel=matrix)
        except Exception as error:  # one broken instance must not hide the others' figures
            print(f"{name:<20}{'-':>10}{'-':>10}{'-':>8}{'-':>6}{'-':>6}{'-':>8}  NO ANSWER ({error})")
            tally.no_answer()
            continue
        elapsed = time.perf_counter() - started
        routes = {
            int(route.resource_id): [
                0 if visit.kind == VisitKind.DEPOT else int(visit.job_id)
                for visit in route.visits
                if visit.kind != VisitKind.BREAK
            ]
            for route in plan.routes
        }
        problems, duration, _distance = check(instance, routes)
        depot_trips = sum(route.count(0) for route in routes.values())
        best = best_known.get(name)
        gap, verdict = tally.record(duration, best, problems)
        print(
            f"{name:<20}{duration:>10.3f}{best or float('nan'):>10.3f}{gap:>7.2f}%{len(routes):>6}{depot_trips:>6}"
            f"{elapsed:>8.1f}  {verdict}",
            flush=True,
        )
    print(tally.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
