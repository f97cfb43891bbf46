"""A month's settlement statements on PostgreSQL, through the product's own path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench_settlement .venv/bin/python bench/settlement.py

Creates the database if it is missing, migrates it and empties the bench's rows (TRUNCATE of the
organisations, CASCADE), then builds, set-based (SETUP ONLY: the rows the lifecycle, the pricing and
the feedback would have written over a month, inserted directly), 2,000 engineers of ours in 10
teams, 200 partner providers, 100,000 orders closed in one month with their lead assignments (a
third to providers), their fee lines (labour, travel, parts), a rating for 40% and an SLA clock for
half of them, and settlement rules (general, per team, per provider, some per service type).

1. `billing.services.settlement.generate_statements` for the month (the function the worker's
   periodic check, the page's button and the API call): target <= 10 s. Checks: one statement per
   party, every order with a party on exactly one line, each statement's total = its lines.
2. Two generations of the same month at once (two threads, a connection each): they add nothing
   (line and statement counts unchanged, each order still on exactly one line).
3. The lines and statements removed, two generations at once from scratch: each order is counted once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

from sla_check import ensure_database  # noqa: E402

PERIOD_START = dt.date(2026, 10, 1)
PERIOD_END = dt.date(2026, 10, 31)
SERVICE_TYPES = ["repair", "repair", "repair", "maintenance", "installation", "inspection"]


def build(*, engineers: int, providers: int, orders: int, seed: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from fieldservice.accounts.choices import OrganisationKind, Role
    from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceTeam, User, UserRole
    from fieldservice.billing.choices import SettlementBasis
    from fieldservice.billing.models import FeeLine, SettlementRule
    from fieldservice.billing.services import margins
    from fieldservice.contracts.models import BusinessCalendar
    from fieldservice.core.db import insert_rows
    from fieldservice.customers.models import Customer
    from fieldservice.dispatch.models import Assignment
    from fieldservice.feedback.models import Evaluation
    from fieldservice.inventory.models import Part
    from fieldservice.sla.models import SlaClock
    from fieldservice.workorders.models import ServiceRequest, WorkOrder

    rng = random.Random(seed)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_organisation, billing_statementline, billing_statement, billing_settlementrule, "
            "billing_ordermargin, core_event, inventory_part RESTART IDENTITY CASCADE"
        )
    own = Organisation.objects.create(name="Settlement Bench Co", kind=OrganisationKind.OWN)
    password = make_password(None)
    director = User.objects.create(username="bench-director", organisation=own, password=password)
    UserRole.objects.create(user=director, role=Role.DIRECTOR)
    people = User.objects.bulk_create(
        (User(username=f"bench-eng-{n}", organisation=own, password=password) for n in range(engineers)),
        batch_size=5000,
    )
    UserRole.objects.bulk_create((UserRole(user=u, role=Role.ENGINEER) for u in people), batch_size=5000)
    teams = ServiceTeam.objects.bulk_create(ServiceTeam(name=f"Team {n}", organisation=own) for n in range(10))
    # Two thirds of the engineers in a team; half the teams have rules of their own.
    EngineerProfile.objects.bulk_create(
        (EngineerProfile(user=u, team=teams[n % 10] if n % 3 else None) for n, u in enumerate(people)),
        batch_size=5000,
    )
    partners = Organisation.objects.bulk_create(
        Organisation(name=f"Provider {n}", kind=OrganisationKind.PROVIDER) for n in range(providers)
    )
    companies = Organisation.objects.bulk_create(
        Organisation(name=f"Customer {n}", kind=OrganisationKind.CUSTOMER) for n in range(500)
    )
    customers = Customer.objects.bulk_create(
        Customer(code=f"C{n:05d}", name=f"客户 {n}", organisation=o) for n, o in enumerate(companies)
    )
    parts = Part.objects.bulk_create(Part(part_number=f"BP{n:03d}", name=f"Part {n}") for n in range(50))
    calendar = BusinessCalendar.objects.order_by("pk").first()

    tz = timezone.get_current_timezone()
    month_start = dt.datetime.combine(PERIOD_START, dt.time.min, tzinfo=tz)
    seconds = int((PERIOD_END - PERIOD_START).days + 1) * 86400
    closed = [month_start + dt.timedelta(seconds=rng.randrange(seconds)) for _ in range(orders)]
    insert_rows(
        ServiceRequest,
        [
            {
                "number": f"SRB{n:08d}",
                "follow_token": f"bench-{n}",
                "customer_id": customers[n % 500].pk,
                "created_at": closed[n],
            }
            for n in range(orders)
        ],
        channel="phone",
        status="converted",
        description="Bench order",
    )
    request_ids = dict(ServiceRequest.objects.filter(number__startswith="SRB").values_list("number", "pk"))
    insert_rows(
        WorkOrder,
        [
            {
                "number": f"WOB{n:08d}",
                "request_id": request_ids[f"SRB{n:08d}"],
                "customer_id": customers[n % 500].pk,
                "service_type": rng.choice(SERVICE_TYPES),
                "labour_hours": Decimal(rng.randint(1, 16)) / 2,
                "created_at": closed[n] - dt.timedelta(hours=8),
                "completed_at": closed[n] - dt.timedelta(hours=1),
                "closed_at": closed[n],
            }
            for n in range(orders)
        ],
        description="Bench order",
        status="closed",
        priority="normal",
        updated_at=month_start,
    )
    order_ids = list(WorkOrder.objects.filter(number__startswith="WOB").order_by("number").values_list("pk", flat=True))
    assignments, fees, ratings, clocks = [], [], [], []
    for n, order_id in enumerate(order_ids):
        if rng.random() < 1 / 3:
            assignments.append({"work_order_id": order_id, "provider_id": partners[rng.randrange(providers)].pk})
        else:
            assignments.append({"work_order_id": order_id, "engineer_id": people[rng.randrange(engineers)].pk})
        hours = rng.randint(1, 8)
        fees.append(
            {
                "work_order_id": order_id,
                "kind": "labour",
                "description": "Labour",
                "quantity": Decimal(hours),
                "unit_price": Decimal("200"),
                "amount": Decimal(200 * hours),
                "cost": Decimal(80 * hours),
            }
        )
        km = rng.randint(2, 120)
        fees.append(
            {
                "work_order_id": order_id,
                "kind": "travel",
                "description": "Travel",
                "quantity": Decimal(km),
                "unit": "km",
                "unit_price": Decimal("3"),
                "amount": Decimal(3 * km),
                "cost": Decimal(km),
            }
        )
        if n % 2:
            price = Decimal(rng.randint(20, 2000))
            fees.append(
                {
                    "work_order_id": order_id,
                    "kind": "part",
                    "description": "Part",
                    "part_id": parts[rng.randrange(50)].pk,
                    "unit_price": price,
                    "amount": price,
                    "cost": (price * Decimal("0.6")).quantize(Decimal("0.01")),
                }
            )
        if rng.random() < 0.4:
            score = rng.randint(1, 5)
            ratings.append(
                {
                    "work_order_id": order_id,
                    "overall": score,
                    "timeliness": score,
                    "attitude": score,
                    "quality": score,
                    "submitted_at": closed[n] + dt.timedelta(hours=2),
                }
            )
        if calendar is not None and n % 2 == 0:
            started = closed[n] - dt.timedelta(hours=8)
            due = started + dt.timedelta(hours=6)
            breached = rng.random() < 0.2
            clocks.append(
                {
                    "work_order_id": order_id,
                    "started_at": started,
                    "due_at": due,
                    "at_risk_at": due - dt.timedelta(hours=1),
                    "met_at": closed[n] - dt.timedelta(hours=1) if not breached else None,
                    "breached_at": due if breached else None,
                }
            )
    insert_rows(Assignment, assignments, role="lead", status="accepted", assigned_at=month_start)
    insert_rows(FeeLine, fees, currency="CNY", payer="customer", source="auto", updated_at=month_start)
    insert_rows(Evaluation, ratings, comment="", needs_callback=False, callback_result="")
    if clocks:
        insert_rows(SlaClock, clocks, kind="resolution", calendar_id=calendar.pk, target_minutes=360)

    rules = [
        SettlementRule(name="Per order", basis=SettlementBasis.PER_ORDER, rate=Decimal("50")),
        SettlementRule(
            name="Installation", basis=SettlementBasis.PER_ORDER, rate=Decimal("120"), service_type="installation"
        ),
        SettlementRule(name="Per hour", basis=SettlementBasis.PER_HOUR, rate=Decimal("30")),
        SettlementRule(
            name="Good rating", basis=SettlementBasis.SCORE_BONUS, rate=Decimal("20"), threshold=Decimal("5")
        ),
        SettlementRule(
            name="Poor rating", basis=SettlementBasis.SCORE_DEDUCTION, rate=Decimal("30"), threshold=Decimal("2")
        ),
    ]
    for team in teams[:5]:
        rules += [
            SettlementRule(
                name=f"{team.name} per order", team=team, basis=SettlementBasis.PER_ORDER, rate=Decimal("60")
            ),
            SettlementRule(
                name=f"{team.name} labour", team=team, basis=SettlementBasis.LABOUR_SHARE, rate=Decimal("30")
            ),
        ]
    for partner in partners:
        rules += [
            SettlementRule(name="Per order", provider=partner, basis=SettlementBasis.PER_ORDER, rate=Decimal("80")),
            SettlementRule(name="Per km", provider=partner, basis=SettlementBasis.PER_KM, rate=Decimal("1.5")),
            SettlementRule(name="Parts", provider=partner, basis=SettlementBasis.PARTS_FEE, rate=Decimal("5")),
            SettlementRule(name="SLA met", provider=partner, basis=SettlementBasis.SLA_BONUS, rate=Decimal("10")),
            SettlementRule(
                name="SLA missed", provider=partner, basis=SettlementBasis.SLA_DEDUCTION, rate=Decimal("50")
            ),
            SettlementRule(
                name="Repair share",
                provider=partner,
                basis=SettlementBasis.LABOUR_SHARE,
                rate=Decimal("40"),
                service_type="repair",
            ),
        ]
    SettlementRule.objects.bulk_create(rules)
    # Each priced order has its margin row already (the pricing refreshed it): the generation updates them.
    margins.refresh(order_ids)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "director": director,
        "orders": len(order_ids),
        "fees": len(fees),
        "ratings": len(ratings),
        "clocks": len(clocks),
        "rules": len(rules),
        "seconds": time.perf_counter() - began,
    }


def counts() -> dict:
    from django.db.models import Count, F, Sum

    from fieldservice.billing.models import Statement, StatementLine

    lines = StatementLine.objects.filter(kind="order")
    per_order = lines.values("work_order_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    wrong_totals = (
        Statement.objects.annotate(lines_total=Sum("lines__amount"), lines_count=Count("lines"))
        .exclude(total=F("lines_total"))
        .count()
        + Statement.objects.annotate(lines_count=Count("lines")).exclude(order_count=F("lines_count")).count()
    )
    return {
        "lines": lines.count(),
        "orders_on_lines": lines.values("work_order_id").distinct().count(),
        "orders_twice": per_order,
        "statements": Statement.objects.count(),
        "parties": Statement.objects.values("party_key").distinct().count(),
        "wrong_totals": wrong_totals,
        "total": Statement.objects.aggregate(t=Sum("total"))["t"],
    }


def concurrently(director, runs: int = 2) -> tuple[float, list]:
    from django.db import connections

    from fieldservice.billing.services.settlement import generate_statements

    barrier = threading.Barrier(runs)
    outcomes: list = [None] * runs

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = (
                "ok",
                generate_statements(actor=director, period_start=PERIOD_START, period_end=PERIOD_END),
            )
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            outcomes[index] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    began = time.perf_counter()
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    return time.perf_counter() - began, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engineers", type=int, default=2000)
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/fsm_bench")
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.db import connection

    from fieldservice.billing.services.settlement import generate_statements

    built = build(engineers=args.engineers, providers=args.providers, orders=args.orders, seed=args.seed)
    print(
        f"setup: {built['orders']:,} orders closed in {PERIOD_START:%Y-%m}, {built['fees']:,} fee lines, "
        f"{built['ratings']:,} ratings, {built['clocks']:,} SLA clocks, {built['rules']:,} rules "
        f"({args.engineers:,} engineers, {args.providers} providers) in {built['seconds']:.1f} s"
    )
    director = built["director"]
    targets = []

    began, cpu = time.perf_counter(), time.process_time()
    summary = generate_statements(actor=director, period_start=PERIOD_START, period_end=PERIOD_END)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    first = counts()
    print(
        f"generate: {summary.statements_created:,} statements, {summary.orders_placed:,} orders placed, "
        f"total {summary.total:,} in {elapsed:.2f} s (of which {cpu:.2f} s of this process's CPU; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    problems = []
    if first["orders_on_lines"] != built["orders"] or first["orders_twice"]:
        problems.append(
            f"orders on lines {first['orders_on_lines']:,} of {built['orders']:,}, twice {first['orders_twice']}"
        )
    if first["statements"] != first["parties"]:
        problems.append("two statements of one party")
    if first["wrong_totals"]:
        problems.append(f"{first['wrong_totals']} statements whose total or count is not their lines'")
    print(f"  checks (each order once, one statement per party, totals = lines): {problems or 'OK'}")
    targets.append(("generate_month", f"{elapsed:.2f} s", "target <= 10 s", elapsed <= 10 and not problems))

    took, outcomes = concurrently(director)
    second = counts()
    errors = [value for kind, value in outcomes if kind == "error"]
    added = [value.orders_placed + value.statements_created for kind, value in outcomes if kind == "ok"]
    same = all(second[k] == first[k] for k in ("lines", "statements", "total")) and not second["orders_twice"]
    print(
        f"two generations at once after it: {took:.2f} s, placed {added}, errors {errors[:2]}; "
        f"lines {first['lines']:,} -> {second['lines']:,}, "
        f"statements {first['statements']:,} -> {second['statements']:,}"
    )
    targets.append(
        (
            "concurrent_adds_nothing",
            f"lines {first['lines']:,} -> {second['lines']:,}, orders twice {second['orders_twice']}",
            "target: unchanged",
            same and not errors and not any(added),
        )
    )

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE billing_statementline, billing_statement RESTART IDENTITY CASCADE")
    took, outcomes = concurrently(director)
    third = counts()
    errors = [value for kind, value in outcomes if kind == "error"]
    placed = [value.orders_placed for kind, value in outcomes if kind == "ok"]
    good = (
        not errors
        and third["orders_on_lines"] == built["orders"]
        and not third["orders_twice"]
        and third["statements"] == third["parties"] == first["statements"]
        and not third["wrong_totals"]
        and third["total"] == first["total"]
    )
    print(
        f"two generations at once from scratch: {took:.2f} s, placed {placed}, errors {errors[:2]}; "
        f"{third['orders_on_lines']:,} orders on lines, {third['orders_twice']} twice, "
        f"{third['statements']:,} statements"
    )
    targets.append(
        (
            "concurrent_fresh_each_once",
            f"{third['orders_on_lines']:,} orders on {third['lines']:,} lines, placed {placed}",
            "target: each order once",
            good,
        )
    )

    for name, figure, target, ok in targets:
        print(f"TARGET {name}: {figure} ({target}) {'OK' if ok else 'MISSED'}")
    return 0 if all(ok for *_rest, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
