"""`fsm iot`: the MQTT ingest process (iot/mqtt.py). Runs until SIGTERM or Ctrl-C, then stores and
acknowledges what it received and disconnects."""

import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fieldservice.iot.mqtt import Ingester


class Command(BaseCommand):
    help = "Subscribe to the MQTT broker (FSM_MQTT_URL) and store what devices publish."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="The broker (default FSM_MQTT_URL or mqtt://127.0.0.1:1883).")
        parser.add_argument("--group", default=None, help="The shared-subscription group (default FSM_MQTT_GROUP).")
        parser.add_argument(
            "--client-id", default=None, help="This process's MQTT client id (default FSM_MQTT_CLIENT_ID)."
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="At most this many messages per transaction.")
        parser.add_argument("--batch-ms", type=int, default=200, help="At most this long gathering one batch.")
        parser.add_argument(
            "--session-expiry",
            type=int,
            default=7 * 24 * 3600,
            help="Seconds the broker keeps this process's messages while it is away.",
        )

    def handle(
        self,
        *args,
        url=None,
        group=None,
        client_id=None,
        batch_size=1000,
        batch_ms=200,
        session_expiry=0,
        verbosity=1,
        **options,
    ):
        if verbosity > 1:
            logging.getLogger("fieldservice").setLevel(logging.INFO)
        if batch_size < 1 or batch_ms < 1:
            raise CommandError("--batch-size and --batch-ms must be at least 1.")
        try:
            ingester = Ingester(
                url,
                group=group,
                client_id=client_id,
                batch_size=batch_size,
                batch_ms=batch_ms,
                session_expiry=session_expiry,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: ingester.stop())
        self.stdout.write(
            f"fsm iot {ingester.client_id}: {ingester.broker}, group {ingester.group}, "
            f"topics {settings.FSM_MQTT_TOPIC_ROOT}/devices/+/messages"
        )
        self.stdout.flush()
        stats = ingester.run()
        self.stdout.write(f"fsm iot stopped: {stats}")
