"""The one guard of outgoing HTTP (core.http): webhooks, the SMS gateway and IM robots refuse
every non-public address on save and on delivery, and connect only to the address they checked."""

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from fieldservice.core import http
from fieldservice.core.errors import DomainError
from fieldservice.notifications import services as notification_services
from fieldservice.notifications.models import ImEndpoint, SmsGateway
from fieldservice.webhooks import services as webhook_services
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookSubscription
from tests.conftest import PUBLIC_TEST_ADDRESS
from tests.webhooks.conftest import Receiver

# The forms of the penetration test, and their relatives.
NON_PUBLIC = [
    "http://[::ffff:127.0.0.1]:8200/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:0:a00:1]/",  # IPv4-translated 10.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://172.17.0.1:2375/",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
    "http://169.254.169.254/",
    "http://[fe80::1]/",
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://0x7f.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
]


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_every_non_public_address_is_refused_on_the_named_field(url):
    with pytest.raises(ValidationError) as excinfo:
        http.check_outgoing_url(url, field="url")
    assert list(excinfo.value.error_dict) == ["url"]
    assert excinfo.value.error_dict["url"][0].code in {"self_target", "private_target"}


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_webhook_api_refuses_non_public_addresses(api_client_for, personas, url):
    body = {"name": "ERP", "url": url, "events": ["sla.breached"]}
    response = api_client_for(personas.admin).post("/api/v1/webhooks", body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_notification_channels_refuse_non_public_addresses(personas, client_for, url):
    client = client_for(personas.admin)
    response = client.post(reverse("notifications:im_create"), {"name": "ops", "kind": "generic", "url": url})
    assert response.status_code == 200 and "url" in response.context["form"].errors
    response = client.post(reverse("notifications:sms_create"), {"name": "gw", "url": url})
    assert response.status_code == 200 and "url" in response.context["form"].errors
    for create in (notification_services.create_im_endpoint, notification_services.create_sms_gateway):
        with pytest.raises(ValidationError) as excinfo:
            create(actor=personas.admin, name="x", url=url)
        assert list(excinfo.value.error_dict) == ["url"]
    assert not ImEndpoint.objects.exists() and not SmsGateway.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused(personas, monkeypatch):
    monkeypatch.setattr(http, "resolve", lambda host, port: [PUBLIC_TEST_ADDRESS, "10.1.2.3"])
    with pytest.raises(ValidationError) as excinfo:
        webhook_services.create_subscription(
            actor=personas.admin, name="ERP", url="https://erp.corp.example/in", events=["sla.breached"]
        )
    assert excinfo.value.error_dict["url"][0].code == "private_target"


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        (["10.0.0.0/8"], "http://10.0.0.1/in"),
        (["10.0.0.1"], "http://10.0.0.1/in"),
        (["fd00:ec2::/32"], "http://[fd00:ec2::254]/in"),
        (["gateway.example.com"], "http://gateway.example.com/in"),
    ],
)
def test_listed_hosts_addresses_and_networks_are_allowed(personas, monkeypatch, allowed, url):
    monkeypatch.setattr(http, "resolve", lambda host, port: ["10.9.9.9"])
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=allowed):
        assert http.check_outgoing_url(url) == url
    with pytest.raises(ValidationError):
        http.check_outgoing_url(url)


def test_public_addresses_pass():
    for address in ["8.8.8.8", "2400:3200::1", "64:ff9b::808:808", "::ffff:8.8.8.8", "2002:808:808::1"]:
        assert http.is_public_address(ipaddress.ip_address(address)), address
    for address in ["100.64.0.1", "198.18.0.1", "192.0.2.1", "2001:db8::1", "2001:0:4136:e378::1", "ff02::1"]:
        assert not http.is_public_address(ipaddress.ip_address(address)), address


@pytest.fixture
def loopback_receiver():
    """A receiver on 127.0.0.1 that is NOT in FSM_OUTGOING_ALLOWED_HOSTS."""
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def rebinding(monkeypatch, loopback_receiver):
    """A name that resolves to a public address while it is saved, then to loopback."""
    answers = {"now": PUBLIC_TEST_ADDRESS}
    monkeypatch.setattr(http, "resolve", lambda host, port: [answers["now"]])
    opened = []
    real_open = http.open_socket

    def open_socket(address, *args):
        opened.append(address)
        return real_open(address, *args)

    monkeypatch.setattr(http, "open_socket", open_socket)
    port = loopback_receiver.server.server_address[1]

    def rebind():
        answers["now"] = "127.0.0.1"

    return f"http://rebind.attacker.example:{port}/hooks/fsm", rebind, opened


def test_dns_rebinding_is_refused_at_delivery_for_webhooks(personas, rebinding, loopback_receiver):
    url, rebind, opened = rebinding
    subscription = webhook_services.create_subscription(
        actor=personas.admin, name="ERP", url=url, events=["sla.breached"]
    )
    rebind()
    delivery = webhook_services.send_test(subscription, actor=personas.admin)
    assert delivery.status == DeliveryStatus.FAILED and "this server" in delivery.last_error
    assert opened == [] and loopback_receiver.requests == []


def test_dns_rebinding_is_refused_at_delivery_for_im_and_sms(personas, rebinding, loopback_receiver):
    url, rebind, opened = rebinding
    endpoint = notification_services.create_im_endpoint(actor=personas.admin, name="ops", url=url)
    gateway = notification_services.create_sms_gateway(actor=personas.admin, name="gw", url=url)
    rebind()
    with pytest.raises(DomainError):
        notification_services.send_test_im(endpoint, actor=personas.admin)
    with pytest.raises(DomainError):
        notification_services.send_test_sms(gateway, actor=personas.admin, phone="+8613800000000")
    assert opened == [] and loopback_receiver.requests == []


def test_delivery_connects_to_the_checked_address_without_a_second_lookup(personas, monkeypatch, loopback_receiver):
    lookups = []

    def resolve(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(http, "resolve", resolve)
    port = loopback_receiver.server.server_address[1]
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]):
        response = http.post_signed(
            f"http://receiver.internal.example:{port}/hooks/fsm?x=1",
            {"a": 1},
            secret="s",
            event="ping",
            delivery_id="d1",
        )
    assert response.status == 200 and lookups == ["receiver.internal.example"]
    request = loopback_receiver.requests[0]
    assert request["path"] == "/hooks/fsm?x=1"
    assert request["headers"]["Host"] == f"receiver.internal.example:{port}"


def test_a_redirect_is_not_followed():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]),
            pytest.raises(http.DeliveryError) as excinfo,
        ):
            http.post_signed(
                f"http://127.0.0.1:{server.server_address[1]}/in", {}, secret="", event="e", delivery_id="d"
            )
    finally:
        server.shutdown()
        server.server_close()
    assert excinfo.value.status == 302 and hits == ["/in"]
