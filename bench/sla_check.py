"""Time one full SLA check over many open work orders on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench .venv/bin/python bench/sla_check.py --orders 100000

Creates the database if it is missing, migrates it, empties the bench's own rows (organisations,
users, customers, orders, clocks, outbox), then bulk-creates open orders with their clocks as a
steady state leaves them: checked until now (their next checks lie ahead, the keys of what they
already sent are in the outbox), except for a share of orders (--due-share, default 5 %) that were
never checked since they started and each have something due (a backlog, e.g. after a downtime).
It then times `check_clocks()` as of one moment three times: the first run, a second run (nothing
new to send), and a re-run with every breached running clock forced due again (all its messages
exist: nothing new). The outbox writes (core.outbox.emit_many) are timed apart.

The goal: the first run takes at most 2 s for 100,000 open orders.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
# Production settings (DEBUG off: no query log slowing the run); the key only signs nothing here.
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def build(orders: int, due_share: float, seed: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from fieldservice.accounts.choices import OrganisationKind, Role
    from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceTeam, User, UserRole
    from fieldservice.core.models import OutboxMessage
    from fieldservice.customers.models import Customer
    from fieldservice.dispatch.models import Assignment
    from fieldservice.sla.calendar import add_business_time, load_calendars
    from fieldservice.sla.choices import TARGET_ORDER
    from fieldservice.sla.models import AT_RISK_PERCENT, SlaClock, SlaPolicy, SlaTarget
    from fieldservice.sla.services.clocks import TARGET_FIELDS, active_rules, evaluate, share
    from fieldservice.workorders.choices import Priority, WorkOrderStatus
    from fieldservice.workorders.models import ServiceRequest, WorkOrder

    rng = random.Random(seed)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_organisation, core_outboxmessage RESTART IDENTITY CASCADE")

    own = Organisation.objects.create(name="Bench Co", kind=OrganisationKind.OWN)
    password = make_password(None)

    def people(role: str, count: int, prefix: str) -> list[User]:
        users = User.objects.bulk_create(
            User(username=f"{prefix}{n}", organisation=own, password=password) for n in range(count)
        )
        UserRole.objects.bulk_create(UserRole(user=user, role=role) for user in users)
        return users

    people(Role.DISPATCHER, 4, "dispatcher")
    people(Role.DIRECTOR, 2, "director")
    leads = people(Role.ENGINEER, 10, "lead")
    engineers = people(Role.ENGINEER, 200, "engineer")
    teams = ServiceTeam.objects.bulk_create(
        ServiceTeam(name=f"Team {n}", organisation=own, leader=lead) for n, lead in enumerate(leads)
    )
    EngineerProfile.objects.bulk_create(
        EngineerProfile(user=engineer, team=teams[n % len(teams)]) for n, engineer in enumerate(engineers)
    )
    owners = people(Role.AGENT, 20, "agent")
    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Customer {n}", kind=OrganisationKind.CUSTOMER) for n in range(500)
    )
    customers = Customer.objects.bulk_create(
        Customer(
            code=f"C{n:05d}",
            name=f"客户 {n}",
            organisation=organisation,
            account_owner=owners[n % len(owners)] if n % 3 else None,
        )
        for n, organisation in enumerate(organisations)
    )

    policies = list(SlaPolicy.objects.filter(code__in=["standard", "key", "strategic"]).order_by("code"))
    weights = {"standard": 6, "key": 2, "strategic": 2}
    targets = {(t.policy_id, t.priority): t for t in SlaTarget.objects.filter(policy__in=policies)}
    specs = load_calendars({policy.calendar_id for policy in policies})
    rules = active_rules()
    now = timezone.now()

    statuses = [
        (WorkOrderStatus.NEW, 35),
        (WorkOrderStatus.DISPATCHED, 20),
        (WorkOrderStatus.ACCEPTED, 15),
        (WorkOrderStatus.TRAVELLING, 10),
        (WorkOrderStatus.ON_SITE, 12),
        (WorkOrderStatus.ON_HOLD, 8),
    ]
    # How many milestones each status has passed (response, acceptance, arrival, resolution).
    passed = {
        WorkOrderStatus.NEW: 0,
        WorkOrderStatus.DISPATCHED: 1,
        WorkOrderStatus.ACCEPTED: 2,
        WorkOrderStatus.TRAVELLING: 2,
        WorkOrderStatus.ON_SITE: 3,
        WorkOrderStatus.ON_HOLD: 2,
    }
    priorities = [(Priority.URGENT, 10), (Priority.HIGH, 20), (Priority.NORMAL, 55), (Priority.LOW, 15)]

    def pick(pairs):
        return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]

    def make_clocks(plan, start, last_check) -> tuple[list, list]:
        """The order's clocks as the checks up to `last_check` left them, and what they sent."""
        target = targets.get((plan["policy"].pk, plan["priority"]))
        spec = specs[plan["policy"].calendar_id]
        made, fired_before = [], []
        for index, kind in enumerate(TARGET_ORDER):
            minutes = getattr(target, TARGET_FIELDS[kind]) if target else None
            if not minutes:
                continue
            clock = SlaClock(
                kind=kind,
                calendar_id=spec.calendar_id,
                target_minutes=minutes,
                started_at=start,
                due_at=add_business_time(spec, start, timedelta(minutes=minutes)),
                at_risk_at=add_business_time(spec, start, share(minutes, AT_RISK_PERCENT)),
            )
            if index < passed[plan["status"]]:
                clock.met_at = start + (now - start) * (index + 1) / 5
            else:
                fired, clock.next_check_at = evaluate(spec, clock, rules, plan["priority"], last_check)
                if clock.due_at <= last_check:
                    clock.breached_at = clock.due_at
                fired_before.extend((clock, rule) for rule in fired)
            made.append(clock)
        return made, fired_before

    plans = []
    for n in range(orders):
        policy = rng.choices(policies, weights=[weights[p.code] for p in policies])[0]
        plan = {
            "policy": policy,
            "priority": pick(priorities),
            "status": pick(statuses),
            "customer": customers[n % len(customers)],
        }
        if rng.random() < due_share:
            # The backlog: never checked since it started, and old enough for something to be due
            # (older and older until one of its clocks has a rule or a due time behind it).
            age = timedelta(minutes=rng.uniform(30, 600))
            for _attempt in range(12):
                start = now - age
                made, _sent = make_clocks(plan, start, last_check=start)
                if any(clock.next_check_at and clock.next_check_at <= now for clock in made):
                    break
                age *= 2
            sent = []
        else:
            # Most open orders are young; some have been open for days. Checked until now.
            age = timedelta(minutes=rng.choice([rng.uniform(0, 600), rng.uniform(0, 600), rng.uniform(0, 7200)]))
            start = now - age
            made, sent = make_clocks(plan, start, last_check=now)
        plans.append({**plan, "created_at": start, "clocks": made, "sent": sent})

    requests = ServiceRequest.objects.bulk_create(
        (
            ServiceRequest(
                number=f"SR{n + 1:08d}",
                channel="phone",
                status="converted",
                customer=plan["customer"],
                description="Bench order",
                created_at=plan["created_at"],
            )
            for n, plan in enumerate(plans)
        ),
        batch_size=5000,
    )
    work_orders = WorkOrder.objects.bulk_create(
        (
            WorkOrder(
                number=f"WO{n + 1:08d}",
                request=request,
                customer=plan["customer"],
                service_type="repair",
                priority=plan["priority"],
                description="Bench order",
                status=plan["status"],
                hold_reason="waiting_parts" if plan["status"] == WorkOrderStatus.ON_HOLD else "",
                sla_policy=plan["policy"],
                created_at=plan["created_at"],
            )
            for n, (plan, request) in enumerate(zip(plans, requests, strict=True))
        ),
        batch_size=5000,
    )
    Assignment.objects.bulk_create(
        (
            Assignment(
                work_order=order,
                engineer=engineers[n % len(engineers)],
                status="offered" if plan["status"] == WorkOrderStatus.DISPATCHED else "accepted",
                assigned_at=plan["created_at"],
            )
            for n, (plan, order) in enumerate(zip(plans, work_orders, strict=True))
            if plan["status"] != WorkOrderStatus.NEW
        ),
        batch_size=5000,
    )

    clocks, sent = [], []
    for plan, order in zip(plans, work_orders, strict=True):
        for clock in plan["clocks"]:
            clock.work_order = order
            clocks.append(clock)
        sent.extend(plan["sent"])
    SlaClock.objects.bulk_create(clocks, batch_size=5000)
    # What the earlier checks sent: the keys a steady state already holds.
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                topic="sla.escalation",
                key=f"sla-esc:{clock.pk}:{rule.pk}",
                payload={"work_order": clock.work_order_id},
                processed_at=now,
            )
            for clock, rule in sent
        ),
        batch_size=5000,
    )
    OutboxMessage.objects.bulk_create(
        (
            OutboxMessage(
                topic="sla.breached", key=f"sla-breach:{clock.pk}", payload={"work_order": clock.work_order_id}
            )
            for clock in clocks
            if clock.breached_at and clock.met_at is None
        ),
        batch_size=5000,
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    running = [clock for clock in clocks if clock.met_at is None]
    due = sum(1 for clock in running if clock.next_check_at and clock.next_check_at <= now)
    return {
        "now": now,
        "orders": orders,
        "clocks": len(clocks),
        "running": len(running),
        "due": due,
        "due_orders": len({c.work_order_id for c in running if c.next_check_at and c.next_check_at <= now}),
        "seconds": time.perf_counter() - started,
    }


OUTBOX_SECONDS = [0.0]


def time_the_outbox() -> None:
    """Measure (not change) the outbox writes inside the check: core.outbox.emit_many."""
    from fieldservice.sla.services import check

    emit_many = check.emit_many

    def timed_emit_many(messages):
        started = time.perf_counter()
        try:
            return emit_many(messages)
        finally:
            OUTBOX_SECONDS[0] += time.perf_counter() - started

    check.emit_many = timed_emit_many


def timed(label: str, now) -> dict:
    from fieldservice.sla.services import check_clocks

    OUTBOX_SECONDS[0] = 0.0
    started = time.perf_counter()
    counts = check_clocks(now=now)
    seconds = time.perf_counter() - started
    print(
        f"{label:<34} {seconds:6.2f} s (outbox writes {OUTBOX_SECONDS[0]:5.2f} s)   checked {counts['checked']:>6}  "
        f"fired {counts['fired']:>6}  breached {counts['breached']:>5}  emitted {counts['emitted']:>6}"
    )
    return {**counts, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.05, help="share of orders with something due")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--limit", type=float, default=2.0, help="seconds the first run may take")
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

    from fieldservice.sla.models import SlaClock

    built = build(args.orders, args.due_share, args.seed)
    print(
        f"built {built['orders']} open orders, {built['clocks']} clocks ({built['running']} running), "
        f"{built['due']} clocks of {built['due_orders']} orders due now, in {built['seconds']:.0f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        print(cursor.fetchone()[0].split(" on ")[0])
    # A worker has its URLconf loaded after its first task; the check's one reverse() would
    # otherwise time the import of every view module (about 2 s here) instead of the check.
    from django.urls import reverse

    reverse("workorders:order_detail", args=[1])
    time_the_outbox()
    # Every run checks as of the moment the orders were built for (the build takes minutes, in
    # which more of them would come due), so the later runs can only repeat the first.
    now = built["now"]
    first = timed("first run", now)
    second = timed("second run", now)
    # Force every breached running clock due again: all the messages they fire exist already.
    checked_again = SlaClock.objects.filter(
        met_at__isnull=True, stopped_at__isnull=True, paused_at__isnull=True, breached_at__isnull=False
    ).update(next_check_at=now)
    third = timed(f"re-run over {checked_again} clocks", now)
    ok = first["seconds"] <= args.limit and second["emitted"] == 0 and third["emitted"] == 0
    print(
        f"{'OK' if ok else 'FAILED'}: first run {first['seconds']:.2f} s (limit {args.limit} s), "
        f"{first['emitted']} messages; the later runs sent {second['emitted'] + third['emitted']}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
