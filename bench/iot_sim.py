"""The device simulator: N machines publishing readings and alarms over MQTT (or HTTP).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fsm .venv/bin/python bench/iot_sim.py \\
        --machines 20 --per-device 1 --speed 2000 --report var/iot_sim.json

Setup (in this database, through the product's own services): the machines are the first N
registered machines whose serial number starts with --serial-prefix, or, with --create, N new
ones (customer "Simulated machines", serial numbers SIM-000001…); each group of --per-device
machines gets a device (a machine's own for 1, a gateway for more) through `issue_device`, or the
device made by an earlier run gets a new token (`rotate_token`: a token is shown only once).

Then every --interval seconds each device publishes one message with the readings (vibration,
temperature, wear) of its machines, and their alarms:
- drift to failure: some machines' metrics rise from their baseline towards a threshold, with
  noise; the moment each crosses it (its failure) is known and written to --report (JSON) and
  summed up on the terminal. --speed compresses the drift (2000: a 30-day drift in about 22 min);
- alarm storms: a machine near its threshold raises <METRIC>_HIGH and raises it again now and then,
  and any machine may start a storm of one fault code (E100…E140) repeated 5–30 times, then cleared;
- disconnections: now and then a machine falls silent for 30 s to 5 min (no reading, no heartbeat);
- noise and rare spikes on every reading.

Over MQTT (default; --mqtt URL or FSM_MQTT_URL, topic root FSM_MQTT_TOPIC_ROOT) each message goes
to <root>/devices/<prefix>/messages at QoS 1 with the token in the payload; with --http URL (the
bulk endpoint, e.g. http://127.0.0.1:8000/api/v1/iot/messages) it is POSTed with the token as
"Authorization: Device <token>". --duration ends the run (default: until Ctrl-C). --seed makes a
run repeatable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")

if TYPE_CHECKING:
    from fieldservice.iot.simulator import SimDevice

SIM_CUSTOMER = "SIM"


def administrator():
    """The simulator acts as an administrator (issuing devices is theirs): the first one, or a
    made one that cannot sign in."""
    from fieldservice.accounts.choices import Role
    from fieldservice.accounts.models import Organisation, User, UserRole

    admin = User.objects.filter(roles__role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    if admin is None:
        own = Organisation.objects.filter(kind="own").first() or Organisation.objects.create(
            name="Simulator", kind="own"
        )
        admin = User.objects.create(username="iot-simulator", organisation=own, is_active=True)
        admin.set_unusable_password()
        admin.save()
        UserRole.objects.create(user=admin, role=Role.ADMINISTRATOR)
    return admin


def create_machines(count: int, serial_prefix: str) -> None:
    """SETUP ONLY: `count` registered machines of one simulated customer, inserted directly."""
    from fieldservice.accounts.models import Organisation
    from fieldservice.assets.models import Equipment, ProductModel
    from fieldservice.customers.models import Customer

    customer = Customer.objects.filter(code=SIM_CUSTOMER).first()
    if customer is None:
        organisation = Organisation.objects.create(name="Simulated machines", kind="customer")
        customer = Customer.objects.create(code=SIM_CUSTOMER, name="Simulated machines", organisation=organisation)
    model, _ = ProductModel.objects.get_or_create(code="SIM-PRESS", defaults={"name": "Simulated press"})
    have = set(
        Equipment.objects.filter(serial_number__startswith=serial_prefix).values_list("serial_number", flat=True)
    )
    Equipment.objects.bulk_create(
        (
            Equipment(customer=customer, product_model=model, serial_number=serial)
            for serial in (f"{serial_prefix}{n + 1:06d}" for n in range(count))
            if serial not in have
        ),
        batch_size=5000,
    )


def setup(machines: int, per_device: int, *, serial_prefix: str = "SIM-", create: bool = False) -> list[SimDevice]:
    """The devices (made or given new tokens) for the first `machines` machines."""
    from django.db import transaction

    from fieldservice.assets.choices import EquipmentStatus
    from fieldservice.assets.models import Equipment
    from fieldservice.iot.choices import DeviceKind
    from fieldservice.iot.models import Device
    from fieldservice.iot.services.devices import issue_device, rotate_token
    from fieldservice.iot.simulator import SimDevice

    if create:
        create_machines(machines, serial_prefix)
    fleet = list(
        Equipment.objects.filter(serial_number__startswith=serial_prefix, status=EquipmentStatus.REGISTERED)
        .select_related("customer")
        .order_by("customer_id", "serial_number")[:machines]
    )
    if len(fleet) < machines:
        raise SystemExit(
            f"only {len(fleet)} registered machines have serial numbers starting with {serial_prefix!r}; use --create"
        )
    admin = administrator()
    devices = []
    with transaction.atomic():
        groups: list[list] = []
        for machine in fleet:  # a gateway serves machines of one customer
            if groups and len(groups[-1]) < per_device and groups[-1][0].customer_id == machine.customer_id:
                groups[-1].append(machine)
            else:
                groups.append([machine])
        for group in groups:
            kind = DeviceKind.MACHINE if per_device == 1 else DeviceKind.GATEWAY
            name = f"Simulator {group[0].serial_number}" + ("" if len(group) == 1 else f"…{group[-1].serial_number}")
            device = Device.objects.filter(name=name, revoked_at__isnull=True).first()
            if device is not None and set(device.machines.values_list("pk", flat=True)) == {m.pk for m in group}:
                token = rotate_token(device, actor=admin)
                device.refresh_from_db()
            else:
                device, token = issue_device(
                    actor=admin,
                    name=name,
                    customer=group[0].customer,
                    machines=group,
                    kind=kind,
                    expected_interval_seconds=60,
                )
            devices.append(SimDevice(name, device.prefix, token, [m.serial_number for m in group]))
    return devices


def run(
    devices: list[SimDevice],
    publisher,
    *,
    interval: float,
    duration: float | None,
    seed: int,
    speed: float,
    days: float,
    report: str | None,
):
    from fieldservice.iot.simulation import expected_failures, fleet
    from fieldservice.iot.simulator import publish

    started = dt.datetime.now(dt.UTC)
    machines = {
        device.prefix: fleet(device.serials, seed=seed * 7919 + n, started=started, speed=speed, days=days)
        for n, device in enumerate(devices)
    }
    plan = [row for group in machines.values() for row in expected_failures(group)]
    failing = sorted((row for row in plan if row["failure_at"]), key=lambda row: row["failure_at"])
    print(f"{len(plan)} machines on {len(devices)} devices; {len(failing)} will fail:")
    for row in failing[:10]:
        print(f"  {row['machine']} at {row['failure_at']}")
    if report:
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(
            json.dumps({"started": started.isoformat(), "speed": speed, "machines": plan}, indent=1)
        )
        print(f"plan written to {report}")
    sent = publish(devices, machines, publisher, interval=interval, duration=duration)
    print(f"sent {sent.messages} messages: {sent.readings} readings, {sent.alarms} alarms")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    parser.add_argument("--machines", type=int, default=20, help="how many machines (default 20)")
    parser.add_argument(
        "--per-device", type=int, default=1, help="machines per device: 1 = each its own, more = gateways"
    )
    parser.add_argument("--serial-prefix", default="SIM-", help="the machines' serial numbers start with this")
    parser.add_argument("--create", action="store_true", help="create the machines that are missing")
    parser.add_argument("--mqtt", default=None, help="the broker (default FSM_MQTT_URL or mqtt://127.0.0.1:1883)")
    parser.add_argument("--http", default=None, help="POST to this bulk endpoint instead of MQTT")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two messages of a device")
    parser.add_argument("--speed", type=float, default=1.0, help="how much faster than the clock machines drift")
    parser.add_argument("--days", type=float, default=30.0, help="simulated days within which failing machines fail")
    parser.add_argument("--duration", type=float, default=None, help="seconds to run (default until Ctrl-C)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", default=None, help="write each machine's known failure time here (JSON)")
    args = parser.parse_args()
    if args.machines < 1 or args.per_device < 1:
        parser.error("--machines and --per-device must be at least 1")

    import django

    django.setup()
    from django.conf import settings

    from fieldservice.iot.simulator import HttpPublisher, MqttPublisher

    devices = setup(args.machines, args.per_device, serial_prefix=args.serial_prefix, create=args.create)
    if args.http:
        publisher = HttpPublisher(args.http)
    else:
        publisher = MqttPublisher(
            args.mqtt or settings.FSM_MQTT_URL or "mqtt://127.0.0.1:1883", settings.FSM_MQTT_TOPIC_ROOT
        )
    run(
        devices,
        publisher,
        interval=args.interval,
        duration=args.duration,
        seed=args.seed,
        speed=args.speed,
        days=args.days,
        report=args.report,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
