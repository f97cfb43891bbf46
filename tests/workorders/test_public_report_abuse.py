"""Abuse of the public QR form (issue 10): the follow page does not tell whether a phone is a
registered contact; a flood of bogus reports cannot lock the real customer out (a phone proven by
an SMS code is not limited nor counted); the per-address limit believes only trusted proxies; an
oversized upload is refused as it streams."""

import ipaddress
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from fieldservice.notifications.models import SmsGateway
from fieldservice.workorders.models import ServiceRequest
from fieldservice.workorders.services.intake import PHONE_CODES_PER_PHONE_PER_HOUR, QR_REPORTS_PER_TOKEN_PER_HOUR
from tests.webhooks.conftest import Receiver
from tests.workorders.conftest import photo
from tests.workorders.test_public_report import report, report_url


def status_shown(client, service_request) -> str:
    body = client.get(reverse("portal:follow", args=[service_request.follow_token])).content.decode()
    return re.search(r"<dt>Status</dt><dd>(.*?)</dd>", body).group(1)


def test_the_follow_page_does_not_tell_whether_the_phone_is_a_contact(client, world):
    report(client, world.machine_a, phone="13800138000", ip="198.51.100.1")  # Li Na, a contact
    report(client, world.machine_a, phone="13900139000", ip="198.51.100.2")  # a stranger
    known, unknown = ServiceRequest.objects.order_by("pk")
    assert known.status != unknown.status  # the desk still sees the difference
    assert status_shown(client, known) == status_shown(client, unknown) == "Received"


@pytest.fixture
def sms(world, django_capture_on_commit_callbacks):
    """An SMS gateway on loopback that records the texts; `send_code` asks for a code and returns it."""
    receiver = Receiver()
    receiver.thread.start()
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]):
        SmsGateway.objects.create(name="gw", url=receiver.url)

        def send_code(client, phone, ip="198.51.100.50"):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    report_url(world.machine_a),
                    {"phone": phone, "description": "It stopped", "send_code": "1"},
                    REMOTE_ADDR=ip,
                )
            codes = [re.search(r"\b(\d{6})\b", receiver.json(i)["text"]) for i in range(len(receiver.requests))]
            return response, codes[-1].group(1) if codes and codes[-1] else None

        send_code.receiver = receiver
        yield send_code
    receiver.server.shutdown()
    receiver.server.server_close()


def flood(client, world):
    for number in range(QR_REPORTS_PER_TOKEN_PER_HOUR):
        assert (
            report(client, world.machine_a, phone=f"1370013700{number}", ip=f"203.0.113.{number + 1}").status_code
            == 302
        )


def test_a_flood_does_not_lock_out_a_reporter_who_confirms_the_phone(client, world, sms):
    flood(client, world)
    blocked = report(client, world.machine_a, phone="13800138000", ip="198.51.100.50")
    assert blocked.status_code == 429 and 'name="send_code"' in blocked.content.decode()
    response, code = sms(client, "13800138000")
    assert response.status_code == 200 and code and 'name="code"' in response.content.decode()
    assert sms.receiver.json()["phone"] == "+8613800138000"
    accepted = report(client, world.machine_a, phone="138 0013 8000", ip="198.51.100.50", code=code)
    assert accepted.status_code == 302
    genuine = ServiceRequest.objects.get(phone_verified=True)
    assert genuine.reporter_phone == "+8613800138000"
    # Not counted with the rest: the limit still holds for the unproven, and one code is one report.
    assert report(client, world.machine_a, phone="13700137999", ip="203.0.113.77").status_code == 429
    assert report(client, world.machine_a, phone="13800138000", ip="198.51.100.50", code=code).status_code == 200
    assert ServiceRequest.objects.count() == QR_REPORTS_PER_TOKEN_PER_HOUR + 1


def test_a_wrong_code_or_a_code_for_another_phone_is_refused(client, world, sms):
    flood(client, world)
    _, code = sms(client, "13800138000")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = report(client, world.machine_a, phone="13800138000", code=wrong)
    assert response.status_code == 200 and "This code is wrong" in response.content.decode()
    assert report(client, world.machine_a, phone="13900139000", code=code).status_code == 200
    assert report(Client(), world.machine_a, phone="13800138000", code=code).status_code == 200  # another session
    assert not ServiceRequest.objects.filter(phone_verified=True).exists()


def test_codes_are_limited_per_phone(client, world, sms):
    for _ in range(PHONE_CODES_PER_PHONE_PER_HOUR):
        assert sms(client, "13800138000")[0].status_code == 200
    response, _ = sms(client, "13800138000")
    assert response.status_code == 429 and len(sms.receiver.requests) == PHONE_CODES_PER_PHONE_PER_HOUR


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [([], "10.0.0.2"), (["10.0.0.0/8"], "198.51.100.200")],
)
def test_the_per_address_limit_uses_the_address_from_a_trusted_proxy(world, trusted, expected):
    networks = [ipaddress.ip_network(n) for n in trusted]
    with override_settings(FSM_TRUSTED_PROXIES=networks):
        Client().post(
            report_url(world.machine_a),
            {"phone": "13700137000", "description": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.200",
        )
    assert ServiceRequest.objects.get().source_ip == expected


@override_settings(FSM_MAX_REQUEST_BYTES=1024 * 1024)
def test_an_oversized_upload_is_refused_before_it_is_read(client, world):
    big = SimpleUploadedFile("big.png", photo().read() + b"\0" * (2 * 1024 * 1024), content_type="image/png")
    response = report(client, world.machine_a, photos=[big])
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()
    assert report(client, world.machine_a, photos=[photo()]).status_code == 302  # a normal report still goes


def test_without_an_sms_gateway_no_code_is_offered_nor_sent(client, world):
    from fieldservice.core.models import OutboxMessage

    flood(client, world)
    blocked = report(client, world.machine_a, phone="13800138000", ip="198.51.100.50")
    assert blocked.status_code == 429 and 'name="send_code"' not in blocked.content.decode()
    response = client.post(
        report_url(world.machine_a),
        {"phone": "13800138000", "description": "It stopped", "send_code": "1"},
        REMOTE_ADDR="198.51.100.50",
    )
    assert response.status_code == 409 and "Please call us" in response.content.decode()
    assert not OutboxMessage.objects.filter(topic="public.phone_code").exists()
