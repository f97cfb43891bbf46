"""The HTTP door (POST /api/v1/iot/messages): a device's token in the Authorization header, one
message or a batch, through the one ingest path; every answer it gives, and what it counts."""

import datetime as dt
import json

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from fieldservice.iot.choices import Door, RejectReason
from fieldservice.iot.models import Alarm, LatestValue, Reading, Rejection
from fieldservice.iot.services.devices import revoke_device, rotate_token
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

URL = "/api/v1/iot/messages"


def post(body, token=None, *, raw=None, authorization=None):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Device {token}"
    data = raw if raw is not None else json.dumps(body)
    return Client(headers=headers).post(URL, data=data, content_type="application/json")


def ago(minutes):
    return timezone.now() - dt.timedelta(minutes=minutes)


def rejected(reason, prefix="") -> int:
    return sum(r.count for r in Rejection.objects.filter(door=Door.HTTP, reason=reason, device_prefix=prefix))


def test_one_message_is_stored_and_answered_with_202(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()

    response = post({"readings": [iot.reading(value=20.5, at=ago(2)), iot.reading(value=21.0, at=ago(1))]}, token)

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["accepted"], body["refused"], body["readings"], body["alarms"]) == (1, 0, 2, 0)
    assert body["outcomes"] == [{"ok": True, "reason": "", "detail": "", "readings": 2, "alarms": 0}]
    assert Reading.objects.filter(equipment=machine).count() == 2
    assert LatestValue.objects.get(equipment=machine).value == 21.0
    assert token not in response.content.decode()


def test_a_gateway_posts_a_batch_for_its_machines_and_a_redelivery_stores_once(personas):
    site = factories.site(personas.customer_a)
    one, two = factories.equipment(personas.customer_a, site=site), factories.equipment(personas.customer_a, site=site)
    _device, token = iot.device(personas.admin, personas.customer_a, machines=[one, two])
    at = ago(3)
    body = {
        "messages": [
            {"machine": one.serial_number, "readings": [iot.reading(at=at)]},
            {
                "machine": two.serial_number,
                "readings": [iot.reading(value=3.0, at=at)],
                "alarms": [iot.alarm(code="E7", at=at, severity="critical")],
            },
            {"machine": two.serial_number, "heartbeat": True},
        ]
    }

    first, again = post(body, token), post(body, token)

    assert first.status_code == again.status_code == 202
    assert (first.json()["accepted"], first.json()["readings"], first.json()["alarms"]) == (3, 2, 1)
    assert Reading.objects.count() == 2
    assert Alarm.objects.get().equipment == two


@pytest.mark.parametrize(
    ("authorization", "reason", "counted_prefix"),
    [
        (None, RejectReason.BAD_CREDENTIALS, ""),
        ("Bearer whatever-the-user-token-is", RejectReason.BAD_CREDENTIALS, ""),
        ("Device dev_unknownunknownunknownunknown", RejectReason.UNKNOWN_DEVICE, "dev_unknownunkno"),
    ],
)
def test_no_or_an_unknown_token_is_401_and_counted(personas, authorization, reason, counted_prefix):
    iot.device(personas.admin, personas.customer_a)

    response = post({"readings": [iot.reading(at=ago(1))]}, authorization=authorization)

    assert response.status_code == 401
    assert response.json()["code"] == reason
    assert rejected(reason, counted_prefix) == 1
    assert not Reading.objects.exists()


def test_a_wrong_a_rotated_and_a_revoked_token_are_401_and_counted(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    body = {"readings": [iot.reading(at=ago(1))]}

    wrong = post(body, token[:16] + "x" * (len(token) - 16))
    new = rotate_token(device, actor=personas.admin)
    old = post(body, token)
    revoke_device(device, actor=personas.admin)
    revoked = post(body, new)

    assert (wrong.status_code, old.status_code, revoked.status_code) == (401, 401, 401)
    assert wrong.json()["code"] == RejectReason.BAD_CREDENTIALS
    assert revoked.json()["code"] == RejectReason.REVOKED
    assert rejected(RejectReason.BAD_CREDENTIALS, token[:16]) == 1
    assert rejected(RejectReason.REVOKED, new[:16]) == 1
    assert not Reading.objects.exists()


def test_a_malformed_message_is_400_naming_the_item_and_field(personas):
    device, token = iot.device(personas.admin, personas.customer_a)

    response = post(
        {"readings": [iot.reading(at=ago(1)), {"metric": "t", "value": "hot", "at": ago(1).isoformat()}]}, token
    )

    assert response.status_code == 400
    assert response.json()["code"] == RejectReason.MALFORMED
    assert response.json()["detail"].startswith("readings[1].value")
    assert not Reading.objects.exists()  # the good reading of the message is not stored either
    assert rejected(RejectReason.MALFORMED, device.prefix) == 1


def test_a_batch_names_the_message_that_failed_and_stores_the_others(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    future = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    body = {"messages": [{"readings": [iot.reading(at=ago(1))]}, {"alarms": [{"code": "E1", "at": future}]}, 7]}

    response = post(body, token)

    assert response.status_code == 202
    outcomes = response.json()["outcomes"]
    assert [o["ok"] for o in outcomes] == [True, False, False]
    assert outcomes[1]["reason"] == RejectReason.IN_FUTURE and outcomes[1]["detail"].startswith(
        "messages[1].alarms[0].at"
    )
    assert outcomes[2]["reason"] == RejectReason.MALFORMED and outcomes[2]["detail"].startswith("messages[2]:")
    assert Reading.objects.count() == 1 and not Alarm.objects.exists()
    assert rejected(RejectReason.IN_FUTURE, device.prefix) == 1


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"messages": []}).encode(), "messages"),
        (json.dumps({"messages": "all"}).encode(), "messages"),
        (json.dumps({"messages": [{}] * 501}).encode(), "messages"),
    ],
)
def test_a_body_that_is_no_message_is_400_and_counted(personas, raw, detail):
    device, token = iot.device(personas.admin, personas.customer_a)

    response = post(None, token, raw=raw)

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert rejected(RejectReason.MALFORMED, device.prefix) == 1


def test_another_customers_machine_is_403_and_nothing_is_stored(personas):
    _device, token = iot.device(personas.admin, personas.customer_a)
    theirs = factories.equipment(personas.customer_z, site=factories.site(personas.customer_z))

    response = post({"machine": theirs.serial_number, "readings": [iot.reading(at=ago(1))]}, token)

    assert response.status_code == 403
    assert response.json()["code"] == RejectReason.NOT_ITS_MACHINE
    assert theirs.serial_number in response.json()["detail"]
    assert not Reading.objects.exists()
    assert rejected(RejectReason.NOT_ITS_MACHINE, token[:16]) == 1


def test_a_body_over_1_mb_is_413_and_counted(personas):
    device, token = iot.device(personas.admin, personas.customer_a)
    body = {"readings": [iot.reading(at=ago(1), unit="x" * 16)] * 12_000}
    raw = json.dumps(body).encode()
    assert len(raw) > 1_000_000

    response = post(None, token, raw=raw)

    assert response.status_code == 413
    assert not Reading.objects.exists()
    assert rejected(RejectReason.MALFORMED, device.prefix) == 1


@override_settings(FSM_IOT_HTTP_REQUESTS_PER_MINUTE=2)
def test_a_device_posting_too_fast_is_429(personas):
    from django.core.cache import cache

    device, token = iot.device(personas.admin, personas.customer_a)
    cache.clear()
    body = {"heartbeat": True}

    statuses = [post(body, token).status_code for _ in range(3)]
    # Another token (a wrong one) has its own window: it cannot use up the device's.
    other = post(body, token[:16] + "y" * 30).status_code

    assert statuses == [202, 202, 429]
    assert other == 401
    cache.clear()


def test_a_users_api_token_does_not_open_the_door(personas, api_client_for):
    iot.device(personas.admin, personas.customer_a)
    response = api_client_for(personas.admin).post(
        URL, data=json.dumps({"heartbeat": True}), content_type="application/json"
    )
    assert response.status_code == 401


def test_the_openapi_document_describes_the_device_token_scheme(client):
    document = client.get("/api/openapi.json").json()
    operation = document["paths"][URL]["post"]
    assert operation["security"] == [{"DeviceToken": []}]
    assert document["components"]["securitySchemes"]["DeviceToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: Device <token>`: the token the administrator issued to the device.",
    }
    assert {"202", "400", "401", "403", "413"} <= set(operation["responses"])


def test_an_unknown_field_is_400_naming_it_and_stores_nothing(personas):
    """The device door's own form of the API's rule (tests/core/test_openapi_contract.py checks it
    for the operations a user calls): a field the format does not have is refused by name."""
    _device, token = iot.device(personas.admin, personas.customer_a)

    response = post({"readings": [iot.reading(at=ago(1))], "bogus_field": "x"}, token)

    assert response.status_code == 400, response.content
    assert "bogus_field" in response.content.decode()
    assert not Reading.objects.exists()
