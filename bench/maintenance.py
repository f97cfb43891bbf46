"""The next 30 days of maintenance visits on PostgreSQL, through the product's own path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench_maintenance .venv/bin/python bench/maintenance.py

Creates the database if it is missing, migrates it and empties the bench's rows (TRUNCATE of the
organisations, product models and parts, CASCADE), then builds, set-based (SETUP ONLY: rows
inserted directly), 500 customers with a site each in 20 cities, 200 product models, 100,000
registered machines installed over the last three years, a default SLA policy with targets (the
orders are under it, but a visit planned for its due day starts no response clocks), and 5,000
plans with a lead of 30 days: one per product model (every 3, 6 or 12 months from the
installation, two parts each) and 4,800 per machine (calendar from the installation or from the
last visit, usage every N operating hours projected from two meter readings, or both).

1. The periodic check's task (`maintenance.tasks.generate_maintenance`, what the worker runs and
   what "generate now" calls) once: target <= 5 s. Checks: each machine and day once, every due
   visit linked to its order and planned for its day, one request, log line and outbox message
   per order, no SLA clock.
2. The same task again: it creates nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

from sla_check import ensure_database  # noqa: E402

CITIES = [f"City {n}" for n in range(20)]


def build(*, machines: int, plans: int, seed: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from fieldservice.accounts.choices import OrganisationKind
    from fieldservice.accounts.models import Organisation
    from fieldservice.assets.models import Equipment, MeterReading, ProductModel
    from fieldservice.contracts.models import BusinessCalendar, SlaPolicy, SlaTarget
    from fieldservice.core.db import insert_rows
    from fieldservice.customers.models import Customer, Site
    from fieldservice.inventory.models import Part
    from fieldservice.maintenance.models import MaintenancePlan, PlanPart

    rng = random.Random(seed)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_organisation, assets_productmodel, inventory_part, maintenance_maintenanceplan, "
            "maintenance_duevisit, core_event, core_outboxmessage, sla_slapolicy RESTART IDENTITY CASCADE"
        )
    Organisation.objects.create(name="Maintenance Bench Co", kind=OrganisationKind.OWN)
    companies = Organisation.objects.bulk_create(
        Organisation(name=f"Customer {n}", kind=OrganisationKind.CUSTOMER) for n in range(500)
    )
    customers = Customer.objects.bulk_create(
        Customer(code=f"C{n:05d}", name=f"客户 {n}", organisation=o) for n, o in enumerate(companies)
    )
    sites = Site.objects.bulk_create(
        Site(customer=c, name="Plant", address="Bench road 1", city=CITIES[n % 20]) for n, c in enumerate(customers)
    )
    models = ProductModel.objects.bulk_create(ProductModel(code=f"BM{n:03d}", name=f"Model {n}") for n in range(200))
    parts = Part.objects.bulk_create(Part(part_number=f"BP{n:03d}", name=f"Filter {n}") for n in range(50))
    calendar = BusinessCalendar.objects.order_by("pk").first() or BusinessCalendar.objects.create(name="Bench")
    policy = SlaPolicy.objects.create(code="bench", name="Bench", calendar=calendar, is_default=True)
    for priority in ("low", "normal", "high", "urgent"):
        SlaTarget.objects.create(
            policy=policy, priority=priority, response_minutes=240, arrival_minutes=2880, resolution_minutes=4320
        )
    today = timezone.localdate()
    rows = []
    for n in range(machines):
        owner = rng.randrange(500)
        rows.append(
            {
                "product_model_id": models[n % 200].pk,
                "serial_number": f"SN{n:08d}",
                "customer_id": customers[owner].pk,
                "site_id": sites[owner].pk,
                "installed_on": today - dt.timedelta(days=rng.randrange(30, 3 * 365)),
                "public_token": f"bench{n:010d}",
            }
        )
    insert_rows(Equipment, rows, status="registered", created_at=timezone.now())
    machine_ids = list(Equipment.objects.order_by("pk").values_list("pk", flat=True))

    plan_rows = []
    for n, model in enumerate(models[: min(200, plans)]):
        plan_rows.append(
            {
                "name": f"Model plan {n}",
                "scope": "model",
                "product_model_id": model.pk,
                "interval_months": (3, 6, 12)[n % 3],
                "calendar_base": "installation",
            }
        )
    chosen = rng.sample(machine_ids, plans - len(plan_rows))
    metered = []
    for n, machine_id in enumerate(chosen):
        kind = n % 4
        row = {"name": f"Machine plan {n}", "scope": "machine", "equipment_id": machine_id}
        if kind == 0:
            row |= {"interval_months": rng.choice((3, 4, 6)), "calendar_base": "installation"}
        elif kind == 1:
            row |= {"interval_months": rng.choice((2, 3, 6)), "calendar_base": "last_visit"}
        elif kind == 2:
            row |= {"interval_hours": rng.choice((250, 500, 1000))}
            metered.append(machine_id)
        else:
            row |= {"interval_months": 6, "interval_hours": 500, "calendar_base": "installation"}
            metered.append(machine_id)
        plan_rows.append(row)
    insert_rows(
        MaintenancePlan,
        plan_rows,
        lead_days=30,
        service_type="maintenance",
        priority="normal",
        is_active=True,
        meter="operating_hours",
        starts_on=today - dt.timedelta(days=365),
        created_at=timezone.now(),
        notes="",
        calendar_base="installation",
    )
    model_plans = MaintenancePlan.objects.filter(scope="model").values_list("pk", flat=True)
    insert_rows(
        PlanPart,
        [
            {"plan_id": plan_id, "part_id": parts[(plan_id + k) % 50].pk, "quantity": Decimal(k + 1)}
            for plan_id in model_plans
            for k in range(2)
        ],
    )
    now = timezone.now()
    readings = []
    for machine_id in metered:
        start = Decimal(rng.randrange(0, 5000))
        per_day = Decimal(rng.randrange(4, 20))
        readings += [
            {"equipment_id": machine_id, "value": start, "read_at": now - dt.timedelta(days=60)},
            {"equipment_id": machine_id, "value": start + per_day * 55, "read_at": now - dt.timedelta(days=5)},
        ]
    insert_rows(MeterReading, readings, meter="operating_hours", unit="h", source="iot", note="")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "machines": len(machine_ids),
        "plans": MaintenancePlan.objects.count(),
        "readings": len(readings),
        "seconds": time.perf_counter() - began,
    }


def checks() -> dict:
    from django.db.models import Count, F

    from fieldservice.core.models import OutboxMessage
    from fieldservice.maintenance.models import DueVisit
    from fieldservice.sla.models import SlaClock
    from fieldservice.workorders.models import ServiceRequest, WorkOrder, WorkOrderEvent

    return {
        "due": DueVisit.objects.count(),
        "unlinked": DueVisit.objects.filter(work_order__isnull=True).count(),
        "twice": DueVisit.objects.values("equipment_id", "due_on").annotate(n=Count("pk")).filter(n__gt=1).count(),
        "orders": WorkOrder.objects.count(),
        "requests": ServiceRequest.objects.filter(channel="proactive").count(),
        "log": WorkOrderEvent.objects.filter(action="created").count(),
        "outbox": OutboxMessage.objects.filter(topic="work_order.created").count(),
        "unnumbered": WorkOrder.objects.filter(number__isnull=True).count(),
        "unplanned": DueVisit.objects.exclude(work_order__planned_for=F("due_on")).count(),
        "clocks": SlaClock.objects.count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=100_000)
    parser.add_argument("--plans", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/fsm_bench")
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from fieldservice.maintenance.tasks import generate_maintenance

    built = build(machines=args.machines, plans=args.plans, seed=args.seed)
    print(
        f"setup: {built['machines']:,} machines, {built['plans']:,} plans, {built['readings']:,} meter readings "
        f"in {built['seconds']:.1f} s"
    )
    began, cpu = time.perf_counter(), time.process_time()
    first = generate_maintenance.call()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    after = checks()
    print(
        f"generate (next 30 days): {first['due_written']:,} due visits, {first['orders_opened']:,} orders "
        f"on {first['plans']:,} plans in {elapsed:.2f} s (of which {cpu:.2f} s of this process's CPU; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    problems = []
    if after["twice"] or after["unlinked"] or after["unnumbered"] or after["unplanned"] or after["clocks"]:
        problems.append(
            f"twice {after['twice']}, unlinked {after['unlinked']}, unnumbered {after['unnumbered']}, "
            f"not planned for their day {after['unplanned']}, SLA clocks {after['clocks']}"
        )
    if not after["orders"] == after["requests"] == after["log"] == after["outbox"] == after["due"]:
        problems.append(f"counts differ: {after}")
    print(
        "  checks (each machine and day once, linked, numbered, planned for its day, one request/log/message "
        f"each, no SLA clock): {problems or 'OK'}"
    )

    began = time.perf_counter()
    second = generate_maintenance.call()
    again = time.perf_counter() - began
    created = second["orders_opened"] + second["due_written"] + checks()["orders"] - after["orders"]
    print(f"second run: {second['due_written']} due visits, {second['orders_opened']} orders in {again:.2f} s")

    targets = [
        ("maintenance_generate_30d", f"{elapsed:.2f}", "target <= 5 s", elapsed <= 5 and not problems),
        ("maintenance_second_run_creates", f"{created}", "target 0", created == 0),
    ]
    for name, value, target, ok in targets:
        unit = " s" if name.endswith("30d") else ""
        print(f"TARGET {name}: {value}{unit} ({target}) {'OK' if ok else 'MISSED'}")
    return 0 if all(ok for *_rest, ok in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
