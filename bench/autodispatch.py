"""Time auto-dispatch of many new orders through many rules on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench_autodispatch .venv/bin/python bench/autodispatch.py

Creates the database if it is missing, migrates it, empties the bench's rows, then bulk-creates
1,000 engineers (skills, areas, homes, some load), 50 rules of every strategy and target, and
10,000 new orders over 2,000 sites. It times `auto_dispatch_many` over all of them: the rule
evaluation and the writes (assignments, order status, service log, SLA clocks, outbox).
Then it checks the result: no order has more than one active lead, for a sample of orders the
rule recorded is the first one that `rules.conditions_match` (tried in order) accepts, and every
row is there (a lead, the status, a service-log line and a message per assigned order, a note
per order nobody took, the rules' counters). The writes go through a psycopg pipeline, past
Django's execute wrapper: the run line shows how long the server still worked after Python had
sent the last chunk.

The goal: at most 1 s in total for 10,000 orders.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

from sla_check import ensure_database  # noqa: E402

PROVINCES = {"Zhejiang": ["Ningbo", "Hangzhou", "Wenzhou", "Shaoxing"], "Jiangsu": ["Suzhou", "Wuxi", "Nanjing"],
             "Shanghai": ["Shanghai"], "Guangdong": ["Shenzhen", "Guangzhou", "Dongguan"]}  # fmt: skip


def build(engineers: int, rules: int, orders: int, seed: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from fieldservice.accounts.choices import Availability, OrganisationKind, Role
    from fieldservice.accounts.models import (
        EngineerProfile,
        EngineerSkill,
        Organisation,
        ServiceArea,
        ServiceTeam,
        Skill,
        User,
        UserRole,
    )
    from fieldservice.assets.models import Equipment, ProductModel
    from fieldservice.customers.models import Customer, Site
    from fieldservice.dispatch.models import Assignment, DispatchRule
    from fieldservice.workorders.models import FaultCategory, ServiceRequest, WorkOrder

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE accounts_organisation, accounts_servicearea, accounts_skill, assets_productmodel, "
            "workorders_faultcategory, dispatch_dispatchrule, core_outboxmessage RESTART IDENTITY CASCADE"
        )
    own = Organisation.objects.create(name="Bench Co", kind=OrganisationKind.OWN)
    providers = Organisation.objects.bulk_create(
        Organisation(name=f"Provider {n}", kind=OrganisationKind.PROVIDER) for n in range(5)
    )
    password = make_password(None)
    cities = [(p, c) for p, cs in PROVINCES.items() for c in cs]
    centres = {c: (rng.uniform(22, 33), rng.uniform(113, 122)) for _p, c in cities}
    areas = ServiceArea.objects.bulk_create(ServiceArea(name=c, province=p, city=c) for p, c in cities)
    # Half the areas have a drawn boundary round their city centre.
    for area in areas[::2]:
        lat, lng = centres[area.city]
        area.polygon = [[lng - 0.6, lat - 0.5], [lng + 0.6, lat - 0.5], [lng + 0.6, lat + 0.5], [lng - 0.6, lat + 0.5],
                        [lng - 0.6, lat - 0.5]]  # fmt: skip
    ServiceArea.objects.bulk_update(areas[::2], ["polygon"])
    skills = Skill.objects.bulk_create(Skill(code=f"skill{n}", name=f"Skill {n}") for n in range(10))
    categories = FaultCategory.objects.bulk_create(
        FaultCategory(code=f"fault{n}", name=f"Fault {n}", skill=skills[n % len(skills)]) for n in range(20)
    )
    models = ProductModel.objects.bulk_create(
        ProductModel(code=f"M{n}", name=f"Model {n}", product_line=f"Line {n % 4}") for n in range(12)
    )
    users = User.objects.bulk_create(
        User(username=f"eng{n}", organisation=own if n % 5 else providers[n % len(providers)], password=password)
        for n in range(engineers)
    )
    UserRole.objects.bulk_create(UserRole(user=u, role=Role.ENGINEER) for u in users)
    agent = User.objects.create(username="bench-agent", organisation=own, password=password)
    teams = ServiceTeam.objects.bulk_create(ServiceTeam(name=f"Team {n}", organisation=own) for n in range(10))
    profiles = []
    for n, user in enumerate(users):
        _p, city = cities[rng.randrange(len(cities))]
        lat, lng = centres[city]
        profiles.append(
            EngineerProfile(
                user=user,
                team=teams[n % len(teams)] if user.organisation_id == own.pk else None,
                home_latitude=round(lat + rng.uniform(-0.3, 0.3), 6),
                home_longitude=round(lng + rng.uniform(-0.3, 0.3), 6),
                availability=rng.choices(
                    [Availability.ON_DUTY, Availability.OFF, Availability.ON_LEAVE], weights=[80, 15, 5]
                )[0],
            )
        )
    profiles = EngineerProfile.objects.bulk_create(profiles)
    EngineerSkill.objects.bulk_create(
        EngineerSkill(engineer=p, skill=s, level=rng.randint(1, 5)) for p in profiles for s in rng.sample(skills, 3)
    )
    through = EngineerProfile.areas.through
    through.objects.bulk_create(
        through(engineerprofile_id=p.pk, servicearea_id=a.pk) for p in profiles for a in rng.sample(areas, 2)
    )
    customer_orgs = Organisation.objects.bulk_create(
        Organisation(name=f"Customer {n}", kind=OrganisationKind.CUSTOMER) for n in range(500)
    )
    customers = Customer.objects.bulk_create(
        Customer(
            code=f"C{n:05d}",
            name=f"Customer {n}",
            organisation=org,
            tier=rng.choice(["strategic", "key", "standard", "standard"]),
            service_provider=providers[n % len(providers)] if n % 3 == 0 else None,
        )
        for n, org in enumerate(customer_orgs)
    )
    site_specs = []
    for n in range(2000):
        province, city = cities[rng.randrange(len(cities))]
        lat, lng = centres[city]
        site_specs.append(
            Site(
                customer=customers[n % len(customers)],
                name=f"Site {n}",
                address="-",
                province=province,
                city=city,
                latitude=round(lat + rng.uniform(-0.4, 0.4), 6),
                longitude=round(lng + rng.uniform(-0.4, 0.4), 6),
            )
        )
    sites = Site.objects.bulk_create(site_specs)
    machines = Equipment.objects.bulk_create(
        Equipment(product_model=rng.choice(models), serial_number=f"SN{n}", customer=s.customer, site=s)
        for n, s in enumerate(sites)
    )

    strategies = ["round_robin", "least_open", "nearest", "best_match"]
    rule_rows = []
    for n in range(rules - 1):
        conditions = {}
        for name, values in (
            ("priority", ["low", "normal", "high", "urgent"]),
            ("customer_tier", ["strategic", "key", "standard"]),
            ("service_type", ["repair", "maintenance", "installation"]),
            ("channel", ["phone", "portal", "qr"]),
        ):
            if rng.random() < 0.4:
                conditions[name] = rng.sample(values, rng.randint(1, len(values) - 1))
        if rng.random() < 0.4:
            conditions["fault_category"] = sorted(c.pk for c in rng.sample(categories, 4))
        if rng.random() < 0.3:
            conditions["area"] = sorted(a.pk for a in rng.sample(areas, 3))
        if rng.random() < 0.15:
            conditions["product_line"] = [f"Line {rng.randrange(4)}"]
        if rng.random() < 0.1:
            conditions["city"] = [rng.choice(cities)[1]]
        kind = rng.choices(["anyone", "team", "engineer", "provider"], weights=[60, 25, 10, 5])[0]
        rule = DispatchRule(position=n + 1, name=f"Rule {n + 1}", conditions=conditions, target_kind=kind)
        if kind == "engineer":
            rule.target_engineer, rule.strategy = rng.choice(users), "fixed"
        elif kind == "provider":
            rule.target_provider, rule.strategy = rng.choice(providers), "fixed"
        else:
            rule.target_team = rng.choice(teams) if kind == "team" else None
            rule.strategy = rng.choice(strategies)
        rule_rows.append(rule)
    # The last rule catches the rest.
    rule_rows.append(DispatchRule(position=rules, name="Everything else", strategy="best_match"))
    DispatchRule.objects.bulk_create(rule_rows)

    requests = ServiceRequest.objects.bulk_create(
        (
            ServiceRequest(
                number=f"SR{n + 1:08d}",
                channel=rng.choice(["phone", "portal", "qr", "email"]),
                status="converted",
                customer=machines[n % len(machines)].customer,
                description="Bench order",
            )
            for n in range(orders)
        ),
        batch_size=5000,
    )
    work_orders = WorkOrder.objects.bulk_create(
        (
            WorkOrder(
                number=f"WO{n + 1:08d}",
                request=request,
                customer=machines[n % len(machines)].customer,
                site=machines[n % len(machines)].site,
                equipment=machines[n % len(machines)],
                service_type=rng.choice(["repair", "repair", "maintenance", "installation"]),
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                fault_category=rng.choice(categories),
                description="Bench order",
                created_by=agent,
            )
            for n, request in enumerate(requests)
        ),
        batch_size=5000,
    )
    # Some engineers already carry work.
    busy = WorkOrder.objects.bulk_create(
        (
            WorkOrder(
                number=f"WB{n:08d}",
                request=requests[n],
                customer=requests[n].customer,
                service_type="repair",
                description="Busy",
                status="accepted",
            )  # fmt: skip
            for n in range(2000)
        ),
        batch_size=5000,
    )
    Assignment.objects.bulk_create(
        Assignment(work_order=o, engineer=rng.choice(users), status="accepted") for o in busy
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"orders": [o.pk for o in work_orders]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engineers", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the slowest statements")
    parser.add_argument("--runs", type=int, default=3, help="time this many runs (reset in between); best counts")
    parser.add_argument("--limit", type=float, default=1.0, help="seconds the run may take")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/fsm_bench_ad")
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from django.db.models import Count, Q

    from fieldservice.dispatch.autodispatch import auto_dispatch_many
    from fieldservice.dispatch.engine import Snapshot
    from fieldservice.dispatch.models import Assignment, DispatchRule
    from fieldservice.dispatch.rules import compile_conditions, conditions_match

    started = time.perf_counter()
    built = build(args.engineers, args.rules, args.orders, args.seed)
    print(f"built {args.engineers} engineers, {args.rules} rules, {len(built['orders'])} new orders "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    # Warm the imports and the connection (a worker has them loaded) without touching the orders.
    auto_dispatch_many([])

    from django.db import connection

    def reset() -> None:
        """Back to 10,000 new orders (the service log is append-only for the app, not here)."""
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM dispatch_assignment WHERE rule_id IS NOT NULL")
            cursor.execute("DELETE FROM workorders_workorderevent")
            cursor.execute("DELETE FROM core_outboxmessage")
            cursor.execute("UPDATE workorders_workorder SET status = 'new' WHERE number LIKE 'WO%%'")
            cursor.execute("UPDATE dispatch_dispatchrule SET matched_count = 0, last_engineer_id = NULL")
            cursor.execute("VACUUM ANALYZE")

    # Time the evaluation (facts, rule matching, choosing) apart from the writes.
    from fieldservice.dispatch import autodispatch

    decide_seconds = [0.0]

    def timed(original):
        def timed_call(*a, **kw):
            begun = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                decide_seconds[0] += time.perf_counter() - begun

        return timed_call

    autodispatch._read = timed(autodispatch._read)
    autodispatch._evaluate = timed(autodispatch._evaluate)

    # The writes go through a psycopg pipeline, past Django's execute wrapper: count the chunks,
    # and time the wait for the server after the last one (what the overlap did not hide).
    pipeline = {"chunks": 0, "wait": 0.0}
    writer = autodispatch._PipelinedWriter
    original_write, original_exit = writer.write, writer.__exit__

    def counted_write(self, decisions):
        pipeline["chunks"] += 1
        return original_write(self, decisions)

    def timed_exit(self, *exc):
        begun = time.perf_counter()
        try:
            return original_exit(self, *exc)
        finally:
            pipeline["wait"] += time.perf_counter() - begun

    writer.write, writer.__exit__ = counted_write, timed_exit

    runs = []
    for run in range(args.runs):
        decide_seconds[0] = 0.0
        pipeline.update(chunks=0, wait=0.0)
        if run:
            reset()
        statements = []

        def timed_sql(execute, sql, params, many, context, statements=statements):
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements.append((time.perf_counter() - begun, sql[:90]))

        started, cpu_started = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timed_sql):
            counts = auto_dispatch_many(built["orders"])
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        sql_seconds = sum(t for t, _s in statements)
        runs.append(seconds)
        print(
            f"run {run + 1}: orders {counts['orders']}  assigned {counts['assigned']}  no one qualified "
            f"{counts['nobody']}  seconds {seconds:.3f}  orders/s {counts['orders'] / seconds:,.0f}   "
            f"(evaluation {decide_seconds[0]:.3f} s; SQL through Django {len(statements)} statements "
            f"{sql_seconds:.3f} s; writes pipelined in {pipeline['chunks']} chunks, then {pipeline['wait']:.3f} s "
            f"waiting for the server; this process used {cpu:.3f} s of CPU)"
        )
        if args.profile:
            for spent, sql in sorted(statements, reverse=True)[:8]:
                print(f"  {spent:6.3f} s  {sql}")
    seconds = min(runs)

    # Every row of the last run is there: a lead, the status, a service-log line and a message for
    # each assigned order, a note for each order nobody took, the rules' counters.
    from fieldservice.core.models import OutboxMessage
    from fieldservice.workorders.models import WorkOrder, WorkOrderEvent

    written = {
        "leads": Assignment.objects.filter(work_order_id__in=built["orders"], role="lead", status="offered").count(),
        "dispatched": WorkOrder.objects.filter(pk__in=built["orders"], status="dispatched").count(),
        "log": WorkOrderEvent.objects.filter(action="dispatch").count(),
        "messages": OutboxMessage.objects.filter(topic="work_order.transitioned").count(),
    }
    complete = (
        set(written.values()) == {counts["assigned"]}
        and WorkOrderEvent.objects.filter(action="auto_dispatch").count() == counts["nobody"]
        and sum(DispatchRule.objects.values_list("matched_count", flat=True)) == counts["matched"]
    )

    # Checks
    doubled = (
        Assignment.objects.filter(work_order_id__in=built["orders"])
        .values("work_order_id")
        .annotate(n=Count("pk", filter=Q(role="lead", status__in=["offered", "accepted"])))
        .filter(n__gt=1)
        .count()
    )
    rules = list(DispatchRule.objects.filter(is_active=True).order_by("position", "pk"))
    compiled = [(r, compile_conditions(r.conditions)) for r in rules]
    snapshot = Snapshot()
    sample = random.Random(args.seed).sample(built["orders"], 500)
    facts = {f.pk: f for f in snapshot.facts_for(sample)}
    recorded = dict(
        Assignment.objects.filter(work_order_id__in=sample, role="lead").values_list("work_order_id", "rule_id")
    )
    wrong = 0
    for pk in sample:
        first = next((r.pk for r, c in compiled if conditions_match(c, facts[pk])), None)
        if pk in recorded and recorded[pk] != first:
            wrong += 1
    ok = seconds <= args.limit and doubled == 0 and wrong == 0 and counts["assigned"] > 0 and complete
    print(
        f"{'OK' if ok else 'FAILED'}: best of {len(runs)} runs {seconds:.3f} s (limit {args.limit} s); "
        f"orders with two active leads: "
        f"{doubled}; sampled orders whose rule is not the first match: {wrong} of {len(sample)}; "
        f"rows written {'complete' if complete else 'INCOMPLETE'} {written}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
