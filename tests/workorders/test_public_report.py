"""Reporting a fault from the machine's public QR page: no login, rate limited, and never a
word about whose machine it is."""

import re

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from fieldservice.assets.services import invalidate_equipment
from fieldservice.workorders.choices import Channel, RequestStatus
from fieldservice.workorders.models import Attachment, ServiceRequest
from fieldservice.workorders.services.intake import QR_REPORTS_PER_IP_PER_HOUR, QR_REPORTS_PER_TOKEN_PER_HOUR
from tests import factories
from tests.workorders.conftest import not_an_image, photo

SECRETS = ("Customer A", "Plant A", "88 Harbour Road", "Li Na", "13800138000", "Provider B")


def page(machine) -> str:
    return reverse("public:equipment", args=[machine.public_token])


def report_url(machine) -> str:
    return reverse("public:report", args=[machine.public_token])


def report(client, machine, ip="198.51.100.7", **data):
    data.setdefault("phone", "13700137000")
    data.setdefault("description", "Oil leaking under the clamp unit")
    return client.post(report_url(machine), data, REMOTE_ADDR=ip)


def assert_no_secrets(body: str, world) -> None:
    for secret in (*SECRETS, world.customer_a.code):
        assert secret not in body, secret


def test_the_public_page_offers_the_form_with_csrf_and_camera(client, world):
    response = client.get(page(world.machine_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'action="{report_url(world.machine_a)}"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="phone"' in body and 'name="description"' in body
    assert 'capture="environment"' in body and "multiple" in body
    assert "coming soon" not in body
    assert_no_secrets(body, world)


def test_a_known_phone_opens_the_request_with_its_contact(client, world):
    response = report(client, world.machine_a, phone="138 0013 8000", photos=[photo(), photo("b.png")])
    request = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("public:reported", args=[world.machine_a.public_token, request.follow_token])
    assert (request.channel, request.status, request.contact) == (Channel.QR, RequestStatus.OPEN, world.contact_a)
    assert (request.customer, request.equipment) == (world.customer_a, world.machine_a)
    assert request.source_ip == "198.51.100.7"
    assert request.attachments.count() == 2
    thanks = client.get(response["Location"])
    body = thanks.content.decode()
    assert thanks.status_code == 200
    assert request.number in body
    assert_no_secrets(body, world)


def test_an_unknown_phone_waits_for_confirmation(client, world):
    report(client, world.machine_a, phone="13700137000", name="Night shift")
    request = ServiceRequest.objects.get()
    assert (request.status, request.contact, request.reporter_name) == (
        RequestStatus.UNCONFIRMED,
        None,
        "Night shift",
    )
    assert request.reporter_phone == "+8613700137000"


def test_the_thank_you_page_shows_the_follow_link_when_the_portal_has_one(client, world, settings):
    settings.FSM_PUBLIC_BASE_URL = "https://service.example.com"
    report(client, world.machine_a)
    request = ServiceRequest.objects.get()
    body = client.get(reverse("public:reported", args=[world.machine_a.public_token, request.follow_token]))
    body = body.content.decode()
    try:
        follow = reverse("portal:follow", args=[request.follow_token])
    except NoReverseMatch:  # the portal's page is not there yet: the number only
        assert "Please quote this number" in body
    else:
        assert f'href="https://service.example.com{follow}"' in body


def test_the_thank_you_page_needs_the_matching_machine(client, world):
    report(client, world.machine_a)
    request = ServiceRequest.objects.get()
    assert (
        client.get(reverse("public:reported", args=[world.machine_z.public_token, request.follow_token])).status_code
        == 404
    )
    assert client.get(reverse("public:reported", args=[world.machine_a.public_token, "nope"])).status_code == 404


def test_a_machine_is_rate_limited_per_hour(client, world):
    for number in range(QR_REPORTS_PER_TOKEN_PER_HOUR):
        assert report(client, world.machine_a, ip=f"198.51.100.{number + 1}").status_code == 302
    response = report(client, world.machine_a, ip="198.51.100.99")
    assert response.status_code == 429
    body = response.content.decode()
    assert "reported several times in the last hour" in body
    assert 'name="phone"' in body  # the form is shown again
    assert_no_secrets(body, world)
    assert ServiceRequest.objects.count() == QR_REPORTS_PER_TOKEN_PER_HOUR
    # Another machine is not affected.
    assert report(client, world.machine_z, ip="198.51.100.99").status_code == 302


def test_an_address_is_rate_limited_per_hour(client, world):
    machines = [
        factories.equipment(world.customer_a, product_model=world.model, site=world.site_a)
        for _ in range(QR_REPORTS_PER_IP_PER_HOUR // QR_REPORTS_PER_TOKEN_PER_HOUR + 2)
    ]
    sent = 0
    for machine in machines:
        for _ in range(QR_REPORTS_PER_TOKEN_PER_HOUR):
            if sent < QR_REPORTS_PER_IP_PER_HOUR:
                assert report(client, machine, ip="203.0.113.5").status_code == 302
                sent += 1
    response = report(client, machines[-1], ip="203.0.113.5")
    assert response.status_code == 429
    assert "Too many reports from your network" in response.content.decode()
    assert ServiceRequest.objects.count() == QR_REPORTS_PER_IP_PER_HOUR
    assert report(client, machines[-1], ip="203.0.113.6").status_code == 302


def test_an_unknown_token_is_a_404_and_writes_nothing(client, world):
    response = client.post(
        reverse("public:report", args=["no-such-token"]), {"phone": "13700137000", "description": "x"}
    )
    assert response.status_code == 404
    assert "We do not know this QR code" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_an_invalidated_machine_has_no_form_and_refuses_reports(client, world):
    invalidate_equipment(world.machine_a, actor=world.agent, reason="Scrapped")
    body = client.get(page(world.machine_a)).content.decode()
    assert 'name="phone"' not in body
    assert "no longer registered for service" in body
    response = report(client, world.machine_a)
    assert response.status_code == 409
    assert 'name="phone"' not in response.content.decode()
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": ""}, "phone", "This field is required."),
        ({"phone": "12"}, "phone", "is not a valid phone number"),
        ({"description": "   "}, "description", "This field is required."),
        ({"photos": [not_an_image()]}, "photos", "The file is not an image."),
        ({"photos": [photo(f"p{i}.png") for i in range(7)]}, "photos", "At most 6 photos."),
    ],
    ids=["no-phone", "bad-phone", "no-description", "not-an-image", "seven-photos"],
)
def test_bad_input_shows_field_errors_and_writes_nothing(client, world, data, field, message):
    response = report(client, world.machine_a, **data)
    body = response.content.decode()
    assert response.status_code == 200
    error = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', body)
    assert error is not None and message in error.group(1).replace("&quot;", '"').replace("&#x27;", "'")
    assert not ServiceRequest.objects.exists()
    assert not Attachment.objects.exists()
    assert_no_secrets(body, world)


def test_csrf_protection_stays_on(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(report_url(world.machine_a), {"phone": "13700137000", "description": "x"})
    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()
    client.get(page(world.machine_a))
    token = client.cookies["csrftoken"].value
    response = client.post(
        report_url(world.machine_a), {"phone": "13700137000", "description": "x", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert ServiceRequest.objects.count() == 1


def test_the_report_page_is_post_only(client, world):
    assert client.get(report_url(world.machine_a)).status_code == 405
