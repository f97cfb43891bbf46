"""Time the rule pass of auto-dispatch, and the whole drain, on PostgreSQL, through the product's own path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm_bench_autodispatch .venv/bin/python bench/autodispatch.py

Creates the database if it is missing, migrates it, empties the bench's rows, then bulk-creates
the world: 1,000 engineers (skills, areas, homes, some load), 50 rules of every strategy and
target, 2,000 sites with a machine each, an SLA policy. Orders are then made the way users make
them: each filed and created through the intake service (`workorders.services.intake`), one
transaction each, which starts its SLA clocks and stores its `work_order.created` message.

1. The rule pass. 10,000 new orders are created while no worker runs; then a dispatcher's "run
   the rules on the waiting orders" (`dispatch.rules.autodispatch.run_rules`, what the queue page's
   button calls) decides and writes all of them: the lead assignments, the status, the service
   log, the SLA response clocks and the outbox messages, through the lifecycle's batch path
   (`transition_many`). Timed over --runs runs (the orders put back between runs); the best
   counts. Target: at most 1 s.
2. The whole drain. With two `fsm worker` processes running (database backend), --drain-orders
   more orders are created; the time from the first order's creation to the moment the last of
   them is dispatched (or noted as matched by nobody) is printed, with the rate.

Afterwards it checks what the product wrote: no order has two active leads, for a sample the
rule recorded is the first that `rules.conditions_match` (tried in order) accepts, and every row
is there (a lead, the status, a service-log line, a met response clock and a message per
dispatched order, a note per order nobody took, the rules' counters).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

from sla_check import ensure_database  # noqa: E402

WORKERS = 2

PROVINCES = {"Zhejiang": ["Ningbo", "Hangzhou", "Wenzhou", "Shaoxing"], "Jiangsu": ["Suzhou", "Wuxi", "Nanjing"],
             "Shanghai": ["Shanghai"], "Guangdong": ["Shenzhen", "Guangzhou", "Dongguan"]}  # fmt: skip


def build(engineers: int, rules: int, seed: int) -> dict:
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
                number=f"SB{n + 1:08d}",
                channel="phone",
                status="converted",
                customer=machines[n % len(machines)].customer,
                description="Bench load",
            )
            for n in range(2000)
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
    # What the intake needs: an agent and a dispatcher of our own. The SLA policies come with the
    # migrations: every order gets a response clock that its dispatch meets.
    from fieldservice.accounts import services as accounts

    admin = accounts.create_user(actor=None, username="bench-admin", organisation=own, roles=[Role.ADMINISTRATOR])
    agent = accounts.create_user(actor=admin, username="bench-agent2", organisation=own, roles=[Role.AGENT])
    dispatcher = accounts.create_user(
        actor=admin, username="bench-dispatcher", organisation=own, roles=[Role.DISPATCHER]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"agent": agent, "dispatcher": dispatcher, "machines": machines, "categories": categories, "rng": rng}


def create_orders(built: dict, count: int) -> tuple[list[int], float]:
    """`count` orders through the intake service, one transaction each, as an agent files them.
    Returns their ids and the seconds it took."""
    from django.db import transaction

    from fieldservice.workorders.services import intake

    rng, machines, categories, agent = built["rng"], built["machines"], built["categories"], built["agent"]
    ids = []
    started = time.perf_counter()
    for n in range(count):
        machine = machines[rng.randrange(len(machines))]
        with transaction.atomic():
            request = intake.file_request(
                actor=agent,
                channel=rng.choice(["phone", "portal", "qr", "email"]),
                customer=machine.customer,
                description=f"Bench fault {n + 1}",
                equipment=machine,
                service_type=rng.choice(["repair", "repair", "maintenance", "installation"]),
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                fault_category=rng.choice(categories),
            )
            ids.append(intake.create_work_order(request, actor=agent, site=machine.site).pk)
    return ids, time.perf_counter() - started


def reset(order_ids: list[int]) -> None:
    """Put the rule pass's orders back to waiting: its leads, log lines, messages and met clocks
    gone (the service log is append-only for the product, not for the bench)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dispatch_assignment WHERE rule_id IS NOT NULL")
        cursor.execute("DELETE FROM workorders_workorderevent WHERE action IN ('dispatch', 'auto_dispatch')")
        cursor.execute("DELETE FROM core_outboxmessage WHERE topic = 'work_order.transitioned'")
        cursor.execute("DELETE FROM pool_pooloffer")
        cursor.execute("UPDATE workorders_workorder SET status = 'new' WHERE id = ANY(%s)", [order_ids])
        cursor.execute(
            "UPDATE sla_slaclock SET met_at = NULL, breached_at = NULL, next_check_at = due_at "
            "WHERE work_order_id = ANY(%s)",
            [order_ids],
        )
        cursor.execute("UPDATE dispatch_dispatchrule SET matched_count = 0, last_engineer_id = NULL")
        cursor.execute("VACUUM ANALYZE")


def check(order_ids: list[int], counts: dict, seed: int) -> tuple[bool, str]:
    """What the last rule pass wrote, read back."""
    from django.db.models import Count, Q

    from fieldservice.core.models import OutboxMessage
    from fieldservice.dispatch.models import Assignment, DispatchRule
    from fieldservice.dispatch.rules.conditions import compile_conditions, conditions_match
    from fieldservice.dispatch.rules.engine import Snapshot
    from fieldservice.sla.models import SlaClock
    from fieldservice.workorders.models import WorkOrder, WorkOrderEvent

    dispatched = list(WorkOrder.objects.filter(pk__in=order_ids, status="dispatched").values_list("pk", flat=True))
    written = {
        "leads": Assignment.objects.filter(work_order_id__in=order_ids, role="lead", status="offered").count(),
        "dispatched": len(dispatched),
        "log": WorkOrderEvent.objects.filter(work_order_id__in=order_ids, action="dispatch").count(),
        "messages": OutboxMessage.objects.filter(topic="work_order.transitioned").count(),
        "response clocks met": SlaClock.objects.filter(
            work_order_id__in=dispatched, kind="response", met_at__isnull=False
        ).count(),
    }
    complete = (
        set(written.values()) == {counts["assigned"]}
        and WorkOrderEvent.objects.filter(work_order_id__in=order_ids, action="auto_dispatch").count()
        == counts["nobody"]
        and sum(DispatchRule.objects.values_list("matched_count", flat=True)) == counts["matched"]
    )
    doubled = (
        Assignment.objects.filter(work_order_id__in=order_ids)
        .values("work_order_id")
        .annotate(n=Count("pk", filter=Q(role="lead", status__in=["offered", "accepted"])))
        .filter(n__gt=1)
        .count()
    )
    rules = list(DispatchRule.objects.filter(is_active=True).order_by("position", "pk"))
    compiled = [(r, compile_conditions(r.conditions)) for r in rules]
    sample = random.Random(seed).sample(order_ids, min(500, len(order_ids)))
    facts = {f.pk: f for f in Snapshot().facts_for(sample)}
    recorded = dict(
        Assignment.objects.filter(work_order_id__in=sample, role="lead").values_list("work_order_id", "rule_id")
    )
    wrong = sum(
        1
        for pk in sample
        if pk in recorded and recorded[pk] != next((r.pk for r, c in compiled if conditions_match(c, facts[pk])), None)
    )
    ok = doubled == 0 and wrong == 0 and counts["assigned"] > 0 and complete
    return ok, (
        f"orders with two active leads: {doubled}; sampled orders whose rule is not the first match: {wrong} of "
        f"{len(sample)}; rows written {'complete' if complete else 'INCOMPLETE'} {written}"
    )


def drain_through_workers(built: dict, count: int, url: str) -> tuple[float, float, int]:
    """`count` orders created while WORKERS `fsm worker` processes drain: seconds from the first
    creation to the last of them decided (dispatched, pooled or noted), seconds creating them,
    and how many were dispatched."""
    from django.db.models import Q

    from fieldservice.core.models import OutboxMessage
    from fieldservice.workorders.models import WorkOrder

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FSM_TASK_BACKEND": "database",
        "DJANGO_SETTINGS_MODULE": "fieldservice.settings",
        "DEBUG": "false",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "fieldservice.cli", "worker", "--name", f"bench-ad-{n}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for n in range(WORKERS)
    ]
    try:
        time.sleep(3)  # started and polling
        started = time.perf_counter()
        ids, creating = create_orders(built, count)
        undecided = Q(status="new") & ~Q(events__action="auto_dispatch")
        while True:
            waiting = OutboxMessage.objects.filter(topic="work_order.created", processed_at__isnull=True).count()
            if not waiting and not WorkOrder.objects.filter(undecided, pk__in=ids).exists():
                break
            time.sleep(0.2)
        drained = time.perf_counter() - started
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    return drained, creating, WorkOrder.objects.filter(pk__in=ids, status="dispatched").count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engineers", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--drain-orders", type=int, default=10_000, help="orders of the drain through the workers (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--runs", type=int, default=3, help="time this many rule passes (reset in between); best counts"
    )
    parser.add_argument("--limit", type=float, default=1.0, help="seconds the rule pass may take")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/fsm_bench_ad")
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    from fieldservice.core import outbox
    from fieldservice.dispatch.assignments import services
    from fieldservice.dispatch.rules import autodispatch

    started = time.perf_counter()
    built = build(args.engineers, args.rules, args.seed)
    print(f"built {args.engineers} engineers and {args.rules} rules in {time.perf_counter() - started:.0f} s")
    # No worker runs in this phase: the orders' messages wait, as in a backlog.
    with outbox.drain_left_to_recovery():
        order_ids, creating = create_orders(built, args.orders)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does soon after a load like this
    print(
        f"created {len(order_ids)} orders through the intake service in {creating:.0f} s "
        f"({len(order_ids) / creating:.0f} orders/s, one transaction each)"
    )

    # Split the pass into deciding and writing, to say where the time goes.
    spent = {"decide": 0.0, "write": 0.0}

    def timed(original, part):
        def call(*a, **kw):
            begun = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                spent[part] += time.perf_counter() - begun

        return call

    autodispatch._read = timed(autodispatch._read, "decide")
    autodispatch._evaluate = timed(autodispatch._evaluate, "decide")
    services.dispatch_by_rules = timed(services.dispatch_by_rules, "write")

    runs = []
    for run in range(args.runs):
        if run:
            reset(order_ids)
        spent.update(decide=0.0, write=0.0)
        begun, cpu = time.perf_counter(), time.process_time()
        counts = autodispatch.run_rules(actor=built["dispatcher"])
        seconds = time.perf_counter() - begun
        runs.append(seconds)
        print(
            f"rule pass {run + 1}: waiting {counts['waiting']}  assigned {counts['assigned']}  pooled "
            f"{counts['pooled']}  nobody {counts['nobody']}  no rule {counts['waiting'] - counts['matched']}  "
            f"seconds {seconds:.3f} ({counts['waiting'] / seconds:,.0f} orders/s; deciding {spent['decide']:.3f} s, "
            f"writing the dispatches {spent['write']:.3f} s, this process used {time.process_time() - cpu:.3f} s CPU)"
        )
    ok, checked = check(order_ids, counts, args.seed)
    best = min(runs)
    print(f"checks {'OK' if ok else 'FAILED'}: {checked}")

    drained = None
    if args.drain_orders:
        drained, creating, dispatched = drain_through_workers(built, args.drain_orders, url)
        print(
            f"whole drain: {args.drain_orders} orders created through the intake service while {WORKERS} "
            f"`fsm worker` drained them: the last decided {drained:.1f} s after the first was created "
            f"(creating took {creating:.1f} s; {args.drain_orders / drained:.0f} orders/s end to end; "
            f"{dispatched} dispatched)"
        )
    print(
        f"TARGET rule_pass_{args.orders}_orders: {best:.3f} s (target <= {args.limit:g} s) "
        f"{'OK' if best <= args.limit and ok else 'MISSED'}"
    )
    return 0 if best <= args.limit and ok else 1


if __name__ == "__main__":
    sys.exit(main())
