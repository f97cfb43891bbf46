"""`fsm demo_devices`: the demo's machines publish while the demo runs (iot/demo.py says what
they do), over MQTT when FSM_MQTT_URL is set, else to the HTTP bulk endpoint of the demo's own
server (FSM_PUBLIC_BASE_URL). `fsm serve --demo-devices` starts it beside the server."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.iot import demo
from fieldservice.iot.simulator import HttpPublisher, MqttPublisher, publish, with_new_tokens


class Command(BaseCommand):
    help = "Keep the demo's connected machines publishing (MQTT with FSM_MQTT_URL, else HTTP)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=demo.LIVE_INTERVAL_SECONDS,
            help=f"Seconds between two messages of a device (default {demo.LIVE_INTERVAL_SECONDS}).",
        )
        parser.add_argument("--duration", type=float, default=None, help="Seconds to run (default: until stopped).")
        parser.add_argument("--http", default=None, help="POST to this bulk endpoint even when a broker is set.")

    def handle(self, *args, interval: float, duration: float | None = None, http: str | None = None, **options):
        if interval <= 0:
            raise CommandError("--interval must be more than 0.")
        devices = list(demo.live_devices())
        admin = User.objects.filter(roles__role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
        if not devices or admin is None:
            self.stdout.write("No demo devices to run (load the demo first); the simulator stops.")
            return
        started = timezone.now()
        simulated = with_new_tokens(devices, actor=admin)  # new prefixes: the fleet is keyed by them
        fleet = demo.live_fleet(devices, started=started)
        mqtt_url = (settings.FSM_MQTT_URL or "").strip()
        if mqtt_url and not http:
            publisher = MqttPublisher(mqtt_url, settings.FSM_MQTT_TOPIC_ROOT, client_id="")
            door = f"MQTT {mqtt_url}"
        else:
            http = http or settings.FSM_PUBLIC_BASE_URL.rstrip("/") + "/api/v1/iot/messages"
            publisher = HttpPublisher(http, wait=60)
            door = f"HTTP {http}"
        machines = sum(len(rows) for rows in fleet.values())
        self.stdout.write(
            f"Demo devices: {len(simulated)} devices, {machines} machines publishing every {interval:g} s over {door}; "
            f"a machine overheats {demo.OVERHEAT_FIRST.seconds // 60} min from now, "
            f"another every {demo.OVERHEAT_EVERY.seconds // 60} min."
        )
        self.stdout.flush()
        sent = publish(simulated, fleet, publisher, interval=interval, duration=duration)
        self.stdout.write(
            f"Demo devices stopped: {sent.messages} messages, {sent.readings} readings, {sent.alarms} alarms."
        )
