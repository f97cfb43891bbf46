"""The stock ledger under load, and "who carries these", on PostgreSQL, through the product's own path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench_stock .venv/bin/python bench/stock.py

Creates the database if it is missing, migrates it and empties the inventory tables, then:

1. Writers. `--writers` threads (50), each with its own database connection, for `--seconds` (30):
   every move is one call of the product's only stock writer, `inventory.services.ledger.post`: a
   consumption on a work order (reason CONSUMPTION) out of the hot warehouse or a van, or a transfer
   (one post with an out line and an in line) between the hot warehouse and another, always of the
   same 10 parts. A consumption refused for lack of stock (a legitimate refusal) makes the thread
   refill that place with a receipt, so that moves keep succeeding. Anything else that goes wrong
   (a deadlock, an integrity error) is an error. Afterwards: no negative balance, `drift()` is empty
   (the ledger adds up to every balance), and the opening stock plus every successful delta the
   threads counted equals each final balance (no lost update). Targets: >= 1,000 moves/s and a p99
   of one move <= 50 ms.
2. Availability. 10,000 parts, 1,000 warehouses and vans, 2 million ledger rows with their balances
   (the SETUP writes them with COPY, not through `post`: two million posts would take an hour, and
   what is timed is the read). Then the dispatcher's question for 20 parts over the 1,000 warehouses
   (`inventory.selectors.availability`) and the vans of 1,000 engineers (`carried_by`), 200 calls
   each: median and p99. Target: <= 50 ms.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

from sla_check import ensure_database  # noqa: E402

HOT_PARTS = 10
OPENING = Decimal("200")
REFILL = Decimal("200")


def _truncate() -> None:
    from django.db import connection

    from fieldservice.inventory import models

    tables = [
        m._meta.db_table
        for m in (
            models.StockMove,
            models.StockBalance,
            models.StockLevel,
            models.SerialUnit,
            models.TransferLine,
            models.Transfer,
            models.DefectivePart,
            models.Bin,
            models.Warehouse,
            models.Part,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _organisation_and_actor():
    from django.contrib.auth.hashers import make_password

    from fieldservice.accounts.choices import OrganisationKind
    from fieldservice.accounts.models import Organisation, User

    own, _created = Organisation.objects.get_or_create(name="Stock Bench Co", defaults={"kind": OrganisationKind.OWN})
    actor, _created = User.objects.get_or_create(
        username="stock-bench-keeper", defaults={"organisation": own, "password": make_password(None)}
    )
    return own, actor


# 1. Writers ----------------------------------------------------------------------------------------


def build_writers(own, actor):
    from fieldservice.accounts.models import User
    from fieldservice.inventory.choices import MoveReason, WarehouseKind
    from fieldservice.inventory.models import Part, Warehouse
    from fieldservice.inventory.services import Line, post

    parts = Part.objects.bulk_create(Part(part_number=f"HOT-{n:02d}", name=f"Hot part {n}") for n in range(HOT_PARTS))
    hot = Warehouse.objects.create(code="HOT", name="Hot warehouse", kind=WarehouseKind.CENTRAL, organisation=own)
    other = Warehouse.objects.create(code="OTHER", name="Regional", kind=WarehouseKind.REGIONAL, organisation=own)
    engineer, _created = User.objects.get_or_create(username="stock-bench-engineer", defaults={"organisation": own})
    van = Warehouse.objects.filter(engineer=engineer).first() or Warehouse.objects.create(
        code="VAN-BENCH", name="Bench van", kind=WarehouseKind.VAN, organisation=own, engineer=engineer
    )
    places = [hot, other, van]
    # Opening stock through the ledger (a receipt each): it also makes every balance row.
    post(
        [
            Line(place, part, MoveReason.RECEIPT, quantity=OPENING, unit_cost=Decimal("10"))
            for place in places
            for part in parts
        ],
        actor=actor,
    )
    return parts, hot, places


def run_writers(parts, hot, places, actor, *, threads: int, seconds: float, seed: int) -> dict:
    from django.core.exceptions import ValidationError
    from django.db import connections

    from fieldservice.inventory.choices import MoveReason
    from fieldservice.inventory.services import Document, Line, post

    others = [p for p in places if p.pk != hot.pk]
    deadline = time.perf_counter() + seconds
    results = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def writer(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        latencies: list[float] = []
        deltas: Counter = Counter()
        counts: Counter = Counter()
        errors: list[str] = []
        try:
            start.wait()
            while time.perf_counter() < deadline:
                part = parts[rng.randrange(len(parts))]
                if rng.random() < 0.6:
                    # A consumption, mostly out of the hot warehouse.
                    place = hot if rng.random() < 0.7 else rng.choice(others)
                    quantity = Decimal(rng.randint(1, 3))
                    lines = [Line(place, part, MoveReason.CONSUMPTION, quantity=-quantity)]
                    kind = "consumption"
                    document = Document(kind="work_order", id=index, work_order_id=index)
                else:
                    other = rng.choice(others)
                    source, destination = (hot, other) if rng.random() < 0.5 else (other, hot)
                    quantity = Decimal(rng.randint(1, 5))
                    lines = [
                        Line(source, part, MoveReason.TRANSFER_OUT, quantity=-quantity),
                        Line(destination, part, MoveReason.TRANSFER_IN, quantity=quantity),
                    ]
                    kind = "transfer"
                    document = Document(kind="bench_transfer")
                began = time.perf_counter()
                try:
                    post(lines, actor=actor, document=document)
                except ValidationError as error:
                    latencies.append(time.perf_counter() - began)
                    codes = {e.code for errs in error.error_dict.values() for e in errs}
                    if codes == {"insufficient_stock"}:
                        counts["refused"] += 1
                        # Refill what ran out, so the moves keep succeeding (a receipt is a move too).
                        refill = lines[0]
                        began = time.perf_counter()
                        post(
                            [Line(refill.warehouse, refill.part, MoveReason.RECEIPT, quantity=REFILL)],
                            actor=actor,
                        )
                        latencies.append(time.perf_counter() - began)
                        deltas[(refill.warehouse.pk, refill.part.pk)] += REFILL
                        counts["refill"] += 1
                    else:
                        counts["error"] += 1
                        errors.append(repr(error))
                except Exception as error:  # noqa: BLE001 - a deadlock or anything else is counted, not hidden
                    latencies.append(time.perf_counter() - began)
                    counts["error"] += 1
                    errors.append(repr(error))
                else:
                    latencies.append(time.perf_counter() - began)
                    counts[kind] += 1
                    for line in lines:
                        deltas[(line.warehouse.pk, line.part.pk)] += line.quantity
        finally:
            connections.close_all()
            with lock:
                results.append((latencies, deltas, counts, errors))

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for each in workers:
        each.start()
    start.wait()
    began = time.perf_counter()
    for each in workers:
        each.join()
    elapsed = time.perf_counter() - began
    latencies = sorted(x for r in results for x in r[0])
    deltas: Counter = Counter()
    counts: Counter = Counter()
    errors = []
    for _lat, d, c, e in results:
        deltas.update(d)
        counts.update(c)
        errors.extend(e)
    # Counter.update drops nothing but `+=` of Decimals may leave zero entries: both are fine here.
    return {"elapsed": elapsed, "latencies": latencies, "deltas": deltas, "counts": counts, "errors": errors}


def check_writers(parts, places, outcome) -> list[str]:
    from django.db.models import Q

    from fieldservice.inventory.models import StockBalance
    from fieldservice.inventory.services import drift

    problems = []
    if StockBalance.objects.filter(Q(on_hand__lt=0) | Q(reserved__lt=0)).exists():
        problems.append("a negative balance")
    drifted = drift()
    if drifted:
        problems.append(f"drift: {drifted[:3]}")
    final = {
        (w, p): on_hand
        for w, p, on_hand in StockBalance.objects.filter(part__in=parts, warehouse__in=places).values_list(
            "warehouse_id", "part_id", "on_hand"
        )
    }
    for place in places:
        for part in parts:
            expected = OPENING + outcome["deltas"].get((place.pk, part.pk), Decimal(0))
            if final.get((place.pk, part.pk)) != expected:
                problems.append(
                    f"lost update at {place.code}/{part.part_number}: {final.get((place.pk, part.pk))} != {expected}"
                )
    return problems


# 2. Availability -----------------------------------------------------------------------------------


def build_availability(own, actor, *, parts: int, warehouses: int, ledger: int, seed: int) -> tuple[list, list, list]:
    """SETUP ONLY: parts, warehouses (a tenth central/regional, the rest engineers' vans) and
    `ledger` ledger rows with the balances they add up to, written with COPY. The product's
    `post` is the only writer of stock; here the rows it would write are produced directly because
    two million posts would take far longer than the bench. `drift()` is checked afterwards, so the
    balances are exactly what the ledger rows add up to."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from fieldservice.accounts.models import User
    from fieldservice.inventory.choices import Grade, MoveReason, WarehouseKind
    from fieldservice.inventory.models import Part, StockBalance, StockMove, Warehouse

    rng = random.Random(seed)
    created = Part.objects.bulk_create(
        (Part(part_number=f"P{n:05d}", name=f"Part {n}") for n in range(parts)), batch_size=5000
    )
    part_ids = [p.pk for p in created]
    vans = warehouses - warehouses // 10
    password = make_password(None)
    User.objects.filter(username__startswith="stock-bench-eng-").delete()
    engineers = User.objects.bulk_create(
        User(username=f"stock-bench-eng-{n}", organisation=own, password=password) for n in range(vans)
    )
    places = Warehouse.objects.bulk_create(
        [
            Warehouse(code=f"WH{n:04d}", name=f"Warehouse {n}", kind=WarehouseKind.REGIONAL, organisation=own)
            for n in range(warehouses - vans)
        ]
        + [
            Warehouse(code=f"VAN{n:04d}", name=f"Van {n}", kind=WarehouseKind.VAN, organisation=own, engineer=e)
            for n, e in enumerate(engineers)
        ]
    )
    place_ids = [w.pk for w in places]
    # Each warehouse holds a random 200 parts (a van fewer, a warehouse more): ~200,000 balances,
    # and the ledger rows are spread over them (receipts in, consumptions and transfers out).
    keys = set()
    while len(keys) < min(ledger // 10, parts * warehouses):
        keys.add((rng.choice(place_ids), rng.choice(part_ids)))
    keys = sorted(keys)
    per_key = ledger // len(keys)
    now = timezone.now().isoformat()
    reasons = [MoveReason.CONSUMPTION, MoveReason.TRANSFER_OUT, MoveReason.ISSUE]
    move_columns = (
        "at, actor_id, reason, warehouse_id, part_id, lot, grade, quantity, reserved, unit_cost, on_hand_after, "
        "document_kind, document_id, reference, work_order_id, equipment_id, note"
    )
    balances = io.StringIO()
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {StockMove._meta.db_table} ({move_columns}) FROM STDIN") as sink:
            chunk = []
            for index, (warehouse_id, part_id) in enumerate(keys):
                count = per_key + (1 if index < ledger - per_key * len(keys) else 0)
                on_hand = 0
                for n in range(count):
                    if n == 0 or on_hand == 0 or rng.random() < 0.4:
                        quantity, reason = rng.randint(1, 20), MoveReason.RECEIPT
                    else:
                        quantity, reason = -rng.randint(1, on_hand), rng.choice(reasons)
                    on_hand += quantity
                    # lot, document_kind, reference and note are '', the ids NULL (\N).
                    chunk.append(
                        f"{now}\t{actor.pk}\t{reason}\t{warehouse_id}\t{part_id}\t\t{Grade.GOOD}\t{quantity}\t0\t0"
                        f"\t{on_hand}\t\t\\N\t\t\\N\t\\N\t\n"
                    )
                    written += 1
                if len(chunk) >= 20000:
                    sink.write("".join(chunk).encode())
                    chunk = []
                balances.write(f"{warehouse_id}\t{part_id}\t\t{Grade.GOOD}\t{on_hand}\t0\n")
            sink.write("".join(chunk).encode())
        with cursor.cursor.copy(
            f"COPY {StockBalance._meta.db_table} (warehouse_id, part_id, lot, grade, on_hand, reserved) FROM STDIN"
        ) as sink:
            sink.write(balances.getvalue().encode())
        # Fresh statistics, as autovacuum would have after a load (the planner needs the counts).
        for model in (StockMove, StockBalance, Warehouse, Part, User):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    print(f"  {len(keys):,} balances, {written:,} ledger rows")
    return part_ids, place_ids, [e.pk for e in engineers]


def time_calls(call, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(len(values) * share))] if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--parts", type=int, default=10_000)
    parser.add_argument("--warehouses", type=int, default=1000)
    parser.add_argument("--ledger", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-writers", action="store_true")
    parser.add_argument("--skip-availability", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error(
            "set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/fsm_bench_stock"
        )
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from fieldservice.inventory.selectors import availability, carried_by
    from fieldservice.inventory.services import drift

    ok = True
    _truncate()
    own, actor = _organisation_and_actor()
    targets = []

    if not args.skip_writers:
        parts, hot, places = build_writers(own, actor)
        print(f"writers: {args.writers} threads for {args.seconds:g} s on {HOT_PARTS} parts in {len(places)} places")
        outcome = run_writers(parts, hot, places, actor, threads=args.writers, seconds=args.seconds, seed=args.seed)
        counts = outcome["counts"]
        moves = counts["consumption"] + counts["transfer"] + counts["refill"]
        rate = moves / outcome["elapsed"]
        p99 = percentile(outcome["latencies"], 0.99) * 1000
        p50 = percentile(outcome["latencies"], 0.50) * 1000
        print(
            f"  {moves:,} moves in {outcome['elapsed']:.1f} s: {counts['consumption']:,} consumptions, "
            f"{counts['transfer']:,} transfers, {counts['refill']:,} refills; {counts['refused']:,} refused for "
            f"lack of stock; {counts['error']:,} errors; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
        for error in outcome["errors"][:5]:
            print(f"  error: {error}")
        problems = check_writers(parts, places, outcome)
        print(f"  checks (no negative balance, no drift, no lost update): {'OK' if not problems else problems[:5]}")
        good = not problems and not counts["error"]
        ok &= good
        targets.append(("stock_moves_per_second", f"{rate:,.0f}/s", "target >= 1,000/s", rate >= 1000 and good))
        targets.append(("stock_move_p99", f"{p99:.1f} ms", "target <= 50 ms", p99 <= 50 and good))
        _truncate()

    if not args.skip_availability:
        print(
            f"availability: building {args.parts:,} parts, {args.warehouses:,} warehouses, {args.ledger:,} ledger rows"
        )
        began = time.perf_counter()
        part_ids, place_ids, engineer_ids = build_availability(
            own, actor, parts=args.parts, warehouses=args.warehouses, ledger=args.ledger, seed=args.seed
        )
        print(f"  built in {time.perf_counter() - began:.0f} s")
        rng = random.Random(args.seed)
        asks = [rng.sample(part_ids, 20) for _ in range(args.calls)]
        turn = iter(range(10**9))

        def by_warehouse():
            return availability(asks[next(turn) % len(asks)], place_ids)

        def by_van():
            wanted = {pk: Decimal(1) for pk in asks[next(turn) % len(asks)]}
            return carried_by(engineer_ids, wanted)

        sample = availability(asks[0], place_ids)
        print(
            f"  a 20-part answer: {sum(len(v) for v in sample.values())} (warehouse, part) pairs "
            f"in {len(sample)} warehouses"
        )
        median, p99 = time_calls(by_warehouse, args.calls)
        print(
            f"  availability(20 parts, {len(place_ids)} warehouses): "
            f"median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
        targets.append(
            ("availability_20_parts_1000_warehouses_p99", f"{p99 * 1000:.1f} ms", "target <= 50 ms", p99 <= 0.05)
        )
        median, p99 = time_calls(by_van, args.calls)
        print(
            f"  carried_by(20 parts, {len(engineer_ids)} engineers' vans): "
            f"median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )
        targets.append(("carried_by_20_parts_1000_vans_p99", f"{p99 * 1000:.1f} ms", "target <= 50 ms", p99 <= 0.05))
        began = time.perf_counter()
        drifted = drift()
        print(
            f"  drift over the {args.ledger:,} ledger rows: {len(drifted)} balances "
            f"({time.perf_counter() - began:.1f} s)"
        )
        ok &= not drifted

    for name, value, goal, good in targets:
        print(f"TARGET {name}: {value} ({goal}) {'OK' if good else 'MISSED'}")
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
