"""Device administration, pages and API: the administrator's alone; a token is shown once, in
the answer that issued or rotated it, and never again; bad input names its field."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from fieldservice.iot.choices import DeviceKind, Door, RejectReason
from fieldservice.iot.models import Device, Presence, Rejection
from fieldservice.iot.services.devices import update_device
from fieldservice.iot.services.ingest import ingest
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

OUTSIDERS = ["customer_user_a", "provider_admin", "provider_engineer", "dispatcher", "engineer", "agent", "director"]


def machine_of(customer):
    return factories.equipment(customer, site=factories.site(customer))


# ------------------------------------------------------------------ pages


def test_the_administrator_issues_a_device_and_sees_its_token_once(personas, client_for):
    admin = client_for(personas.admin)
    machine = machine_of(personas.customer_a)
    other_customers_machine = machine_of(personas.customer_z)

    step_one = admin.get("/iot/devices/new/")
    step_two = admin.get(f"/iot/devices/new/?customer={personas.customer_a.pk}")
    response = admin.post(
        "/iot/devices/new/",
        {
            "customer": personas.customer_a.pk,
            "name": "Press 1 controller",
            "kind": DeviceKind.MACHINE,
            "machines": [machine.pk],
            "expected_interval_seconds": 60,
        },
    )

    assert step_one.status_code == 200 and b'name="customer"' in step_one.content
    assert machine.serial_number in step_two.content.decode()
    assert other_customers_machine.serial_number not in step_two.content.decode()
    assert response.status_code == 200
    device = Device.objects.get(name="Press 1 controller")
    token = response.context["new_token"]
    assert token.startswith(device.prefix) and token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert list(device.machines.all()) == [machine] and device.expected_interval_seconds == 60
    # Never again: not on its page, nor in the list, nor in the API.
    for url in (f"/iot/devices/{device.pk}/", "/iot/devices/", f"/iot/devices/{device.pk}/edit/"):
        page = admin.get(url)
        assert page.status_code == 200 and token not in page.content.decode()
        assert device.prefix in page.content.decode() or url.endswith("edit/")
    api = admin.get(f"/api/v1/iot/devices/{device.pk}")
    assert api.status_code == 200 and token not in api.content.decode()
    # The token works at the door.
    assert ingest([iot.http(token, heartbeat=True)])[0].ok


def test_a_device_for_another_customers_machine_is_refused_naming_the_field(personas, client_for):
    admin = client_for(personas.admin)
    theirs = machine_of(personas.customer_z)

    response = admin.post(
        "/iot/devices/new/",
        {
            "customer": personas.customer_a.pk,
            "name": "Gateway",
            "kind": DeviceKind.GATEWAY,
            "machines": [theirs.pk],
            "expected_interval_seconds": 60,
        },
    )

    assert response.status_code == 200
    assert "machines" in response.context["form"].errors
    assert not Device.objects.exists()


def test_the_list_searches_filters_and_says_when_it_is_empty(personas, client_for):
    admin = client_for(personas.admin)
    empty = admin.get("/iot/devices/")
    a, _ = iot.device(personas.admin, personas.customer_a, name="Line A press")
    z, _ = iot.device(personas.admin, personas.customer_z, name="Line Z oven")

    by_name = admin.get("/iot/devices/?q=oven")
    by_customer = admin.get(f"/iot/devices/?customer={personas.customer_a.pk}")
    by_serial = admin.get(f"/iot/devices/?q={a.machines.get().serial_number}")

    assert "No devices yet" in empty.content.decode()
    assert list(by_name.context["objects"]) == [z]
    assert list(by_customer.context["objects"]) == [a]
    assert list(by_serial.context["objects"]) == [a]


def test_revoke_and_rotate_from_the_page(personas, client_for):
    admin = client_for(personas.admin)
    device, token = iot.device(personas.admin, personas.customer_a)

    rotated = admin.post(f"/iot/devices/{device.pk}/rotate/")
    new = rotated.context["new_token"]
    assert new != token and new in rotated.content.decode()
    assert not ingest([iot.http(token, heartbeat=True)])[0].ok
    assert ingest([iot.http(new, heartbeat=True)])[0].ok
    # A GET does nothing.
    assert admin.get(f"/iot/devices/{device.pk}/revoke/").status_code == 405

    revoked = admin.post(f"/iot/devices/{device.pk}/revoke/", follow=True)

    device.refresh_from_db()
    assert device.revoked_at is not None and new not in revoked.content.decode()
    assert ingest([iot.http(new, heartbeat=True)])[0].reason == RejectReason.REVOKED
    # A revoked device's token cannot be rotated back to life.
    again = admin.post(f"/iot/devices/{device.pk}/rotate/", follow=True)
    assert "new_token" not in again.context or not again.context["new_token"]
    assert Device.objects.get(pk=device.pk).prefix == device.prefix


def test_the_device_page_shows_its_machines_last_seen_and_its_refusals(personas, client_for):
    admin = client_for(personas.admin)
    device, token = iot.device(personas.admin, personas.customer_a)
    ingest([iot.http(token, readings=[iot.reading()])])
    ingest([iot.http(token, readings=[{"metric": "t", "value": "x", "at": timezone.now().isoformat()}])] * 2)

    page = admin.get(f"/iot/devices/{device.pk}/")

    body = page.content.decode()
    assert device.machines.get().serial_number in body and "Online" in body
    assert ("Malformed payload", 2) in page.context["rejection_totals"]


def test_the_rejected_messages_page_lists_them_per_day_door_reason_and_device(personas, client_for):
    admin = client_for(personas.admin)
    empty = admin.get("/iot/devices/rejected/")
    device, token = iot.device(personas.admin, personas.customer_a)
    ingest([iot.http("dev_nobodynobodynobody")])
    ingest([iot.mqtt(token, readings=[{"metric": "t", "value": 1}])])

    page = admin.get("/iot/devices/rejected/")
    only_http = admin.get("/iot/devices/rejected/?door=http")

    assert b'id="no-rejections"' in empty.content
    reasons = {(r.door, r.reason, r.device_prefix, r.count) for r in page.context["rows"]}
    assert reasons == {
        (Door.HTTP, RejectReason.UNKNOWN_DEVICE, "dev_nobodynobody", 1),
        (Door.MQTT, RejectReason.MALFORMED, device.prefix, 1),
    }
    assert device.name in page.content.decode()
    assert [r.door for r in only_http.context["rows"]] == [Door.HTTP]


def test_editing_changes_name_machines_and_interval_of_the_same_customer(personas, client_for):
    admin = client_for(personas.admin)
    one, two = machine_of(personas.customer_a), machine_of(personas.customer_a)
    device, token = iot.device(personas.admin, personas.customer_a, machines=[one], kind=DeviceKind.GATEWAY)
    ingest([iot.http(token, heartbeat=True)])

    response = admin.post(
        f"/iot/devices/{device.pk}/edit/",
        {"name": "Renamed", "machines": [one.pk, two.pk], "expected_interval_seconds": 900},
    )

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.name == "Renamed" and set(device.machines.all()) == {one, two}
    assert Presence.objects.get(equipment=one).expected_interval_seconds == 900
    with pytest.raises(Exception, match="machines"):
        update_device(device, actor=personas.admin, machines=[machine_of(personas.customer_z)])
    with pytest.raises(Exception, match="expected_interval_seconds"):
        update_device(device, actor=personas.admin, expected_interval_seconds=5)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_one_but_the_administrator_reaches_the_pages(personas, client_for, who):
    device, _token = iot.device(personas.admin, personas.customer_a)
    client = client_for(getattr(personas, who))

    for url in ("/iot/devices/", "/iot/devices/new/", f"/iot/devices/{device.pk}/", "/iot/devices/rejected/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/iot/devices/{device.pk}/rotate/").status_code == 404
    assert client.post(f"/iot/devices/{device.pk}/revoke/").status_code == 404
    assert Device.objects.get().revoked_at is None and Device.objects.get().prefix == device.prefix
    assert "/iot/devices/" not in client.get("/").content.decode()


def test_the_administrator_has_the_menu_entry(personas, client_for):
    assert "/iot/devices/" in client_for(personas.admin).get("/").content.decode()


# ------------------------------------------------------------------ API


def test_the_api_creates_lists_changes_rotates_and_revokes(personas, api_client_for):
    api = api_client_for(personas.admin)
    one, two = machine_of(personas.customer_a), machine_of(personas.customer_a)

    created = api.post(
        "/api/v1/iot/devices",
        data=json.dumps(
            {"name": "Gateway 1", "customer": personas.customer_a.pk, "kind": "gateway", "machines": [one.pk]}
        ),
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    token, pk = body["token"], body["id"]
    assert token.startswith(body["prefix"]) and body["machines"][0]["serial_number"] == one.serial_number
    listed = api.get("/api/v1/iot/devices").json()
    assert [d["id"] for d in listed["items"]] == [pk] and token not in json.dumps(listed)
    detail = api.get(f"/api/v1/iot/devices/{pk}")
    assert "token" not in detail.json() and token not in detail.content.decode()

    changed = api.patch(
        f"/api/v1/iot/devices/{pk}",
        data=json.dumps({"machines": [one.pk, two.pk], "expected_interval_seconds": 120}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["machine_count"] == 2
    assert token not in changed.content.decode()

    rotated = api.post(f"/api/v1/iot/devices/{pk}/rotate")
    new = rotated.json()["token"]
    assert rotated.status_code == 200 and new and new != token
    assert api.get(f"/api/v1/iot/devices/{pk}").json()["prefix"] == new[:16]

    revoked = api.post(f"/api/v1/iot/devices/{pk}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] and new not in revoked.content.decode()
    assert api.post(f"/api/v1/iot/devices/{pk}/revoke").status_code == 409
    assert api.post(f"/api/v1/iot/devices/{pk}/rotate").status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"kind": "toaster"}, "kind"),
        ({"machines": []}, "machines"),
        ({"machines": [987654]}, "machines"),
        ({"customer": 987654}, "customer"),
        ({"expected_interval_seconds": 1}, "expected_interval_seconds"),
        ({"kind": "machine", "machines": "two"}, "machines"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_to_the_api_names_the_field(personas, api_client_for, change, field):
    api = api_client_for(personas.admin)
    one, two = machine_of(personas.customer_a), machine_of(personas.customer_a)
    body = {"name": "Gateway", "customer": personas.customer_a.pk, "kind": "machine", "machines": [one.pk], **change}
    if change.get("machines") == "two":
        body["machines"] = [one.pk, two.pk]

    response = api.post("/api/v1/iot/devices", data=json.dumps(body), content_type="application/json")

    assert response.status_code in (400, 422), response.content
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
    assert not Device.objects.exists()


def test_the_api_refuses_another_customers_machine(personas, api_client_for):
    theirs = machine_of(personas.customer_z)
    response = api_client_for(personas.admin).post(
        "/api/v1/iot/devices",
        data=json.dumps({"name": "G", "customer": personas.customer_a.pk, "kind": "gateway", "machines": [theirs.pk]}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "other_customer"


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_one_but_the_administrator_lists_or_manages_devices_by_api(personas, api_client_for, who):
    device, _token = iot.device(personas.admin, personas.customer_a)
    Rejection.objects.create(day=dt.date.today(), door=Door.HTTP, reason=RejectReason.MALFORMED, count=1)
    api = api_client_for(getattr(personas, who))

    assert api.get("/api/v1/iot/devices").json()["items"] == []
    assert api.get("/api/v1/iot/rejections").json()["items"] == []
    assert api.get(f"/api/v1/iot/devices/{device.pk}").status_code == 404
    assert api.post(f"/api/v1/iot/devices/{device.pk}/rotate").status_code == 404
    assert api.post(f"/api/v1/iot/devices/{device.pk}/revoke").status_code == 404
    patched = api.patch(
        f"/api/v1/iot/devices/{device.pk}", data=json.dumps({"name": "Mine"}), content_type="application/json"
    )
    assert patched.status_code == 404
    created = api.post(
        "/api/v1/iot/devices",
        data=json.dumps(
            {
                "name": "Mine",
                "customer": personas.customer_a.pk,
                "machines": [device.machines.get().pk],
            }
        ),
        content_type="application/json",
    )
    assert created.status_code == 403
    assert Device.objects.count() == 1 and Device.objects.get().name == device.name


def test_the_rejections_api_names_the_device(personas, api_client_for):
    device, token = iot.device(personas.admin, personas.customer_a)
    ingest([iot.http(token, readings="many")])
    ingest([iot.http("dev_nobodynobodynobody")])

    rows = api_client_for(personas.admin).get("/api/v1/iot/rejections").json()["items"]
    mine = api_client_for(personas.admin).get(f"/api/v1/iot/rejections?device={device.pk}").json()["items"]

    assert {(r["reason"], r["device"]) for r in rows} == {
        (RejectReason.MALFORMED, device.pk),
        (RejectReason.UNKNOWN_DEVICE, None),
    }
    assert [r["reason"] for r in mine] == [RejectReason.MALFORMED]


def test_a_repeated_create_with_the_same_idempotency_key_does_not_show_the_token_again(personas, api_client_for):
    api = api_client_for(personas.admin)
    machine = machine_of(personas.customer_a)
    body = json.dumps({"name": "Press", "customer": personas.customer_a.pk, "machines": [machine.pk]})

    first = api.post(
        "/api/v1/iot/devices", data=body, content_type="application/json", headers={"Idempotency-Key": "k1"}
    )
    again = api.post(
        "/api/v1/iot/devices", data=body, content_type="application/json", headers={"Idempotency-Key": "k1"}
    )

    assert first.status_code == again.status_code == 201
    assert first.json()["token"] and again.json()["token"] is None
    assert first.json()["id"] == again.json()["id"] and Device.objects.count() == 1
