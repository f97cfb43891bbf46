"""The administrator's alarm codes and threshold rules (pages, API, bad input) and the machine
alarm list, scoped: a customer sees its own machines' alarms, a provider those of the orders
dispatched to it, nobody else's."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.dispatch.assignments.services import dispatch_to_provider
from fieldservice.iot.models import AlarmMapping, ThresholdRule
from fieldservice.iot.services.configuration import create_threshold_rule, update_threshold_rule
from fieldservice.iot.services.ingest import ingest
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.iot import factories as iot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
API = "/api/v1/iot"
JSON = "application/json"


def ago(minutes):
    return NOW - dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "above", "value": None}, "value"),
        ({"kind": "below"}, "value"),
        ({"kind": "rate", "value": ""}, "value"),
        ({"kind": "rate", "value": -1}, "value"),
        ({"kind": "above", "value": 1, "window_minutes": 0}, "window_minutes"),
        ({"kind": "above", "value": 1, "window_minutes": 7 * 24 * 60 + 1}, "window_minutes"),
        ({"kind": "above", "value": 1, "metric": "oil temp"}, "metric"),
        ({"kind": "above", "value": 1, "metric": ""}, "metric"),
        ({"kind": "sideways", "value": 1}, "kind"),
        ({"kind": "above", "value": 1, "priority": "asap"}, "priority"),
        ({"kind": "above", "value": 1, "name": " "}, "name"),
    ],
)
def test_bad_rule_input_names_the_field_and_writes_nothing(personas, fields, field):
    values = {"name": "Hot oil", "metric": "oil_temperature", **fields}
    with pytest.raises(ValidationError) as refused:
        create_threshold_rule(actor=personas.admin, **values)
    assert field in refused.value.message_dict, refused.value
    assert not ThresholdRule.objects.exists()


def test_a_plan_usage_rule_needs_no_value_and_an_edit_forgets_what_held(personas):
    rule = create_threshold_rule(actor=personas.admin, name="Hours", metric="operating_hours", kind="plan_usage")
    assert rule.value is None
    hot = iot.threshold_rule(personas.admin, "temperature", "above", value=80, window_minutes=10)
    device, token = iot.device(personas.admin, personas.customer_a)
    ingest([iot.mqtt(token, readings=[iot.reading(value=90, at=ago(5))])], now=NOW)
    assert hot.states.exists()
    update_threshold_rule(hot, actor=personas.admin, value=95)
    assert not hot.states.exists()


def test_only_the_administrator_manages_alarm_codes(personas, client_for, api_client_for):
    with pytest.raises(PermissionDenied):
        iot.alarm_code(personas.dispatcher, "E1")
    assert client_for(personas.dispatcher).get("/iot/alarm-codes/").status_code == 404
    assert client_for(personas.dispatcher).get("/iot/rules/").status_code == 404
    response = api_client_for(personas.dispatcher).post(
        f"{API}/alarm-codes", json.dumps({"code": "E1"}), content_type=JSON
    )
    assert response.status_code == 403
    assert not AlarmMapping.objects.exists()


def test_the_administrator_maps_a_code_edits_and_deactivates_it_on_the_pages(personas, client_for):
    client = client_for(personas.admin)
    category = factories.fault_category("hydraulics")
    assert client.get("/iot/alarm-codes/new/").status_code == 200

    response = client.post(
        "/iot/alarm-codes/new/",
        {
            "code": "E101",
            "description": "Oil too hot",
            "fault_category": category.pk,
            "priority": "urgent",
            "opens_order": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    mapping = AlarmMapping.objects.get()
    assert (mapping.code, mapping.fault_category, mapping.priority, mapping.opens_order) == (
        "E101",
        category,
        "urgent",
        True,
    )
    listing = client.get("/iot/alarm-codes/")
    assert "E101" in listing.content.decode() and "Oil too hot" in listing.content.decode()

    duplicate = client.post("/iot/alarm-codes/new/", {"code": "E101", "priority": "high"})
    assert duplicate.status_code == 200 and "mapped already" in duplicate.content.decode()
    spaced = client.post("/iot/alarm-codes/new/", {"code": "E 1", "priority": "high"})
    assert spaced.status_code == 200 and AlarmMapping.objects.count() == 1

    client.post(
        f"/iot/alarm-codes/{mapping.pk}/", {"code": "E101", "priority": "low", "opens_order": "on", "is_active": "on"}
    )
    mapping.refresh_from_db()
    assert mapping.priority == "low"
    client.post(f"/iot/alarm-codes/{mapping.pk}/deactivate/")
    mapping.refresh_from_db()
    assert not mapping.is_active


def test_the_rule_pages_refuse_a_rule_without_its_value(personas, client_for):
    client = client_for(personas.admin)
    response = client.post(
        "/iot/rules/new/",
        {
            "name": "Hot",
            "metric": "temperature",
            "kind": "above",
            "value": "",
            "window_minutes": "10",
            "priority": "normal",
        },
    )
    assert response.status_code == 200 and "needs a value" in response.content.decode()
    zero = client.post(
        "/iot/rules/new/",
        {
            "name": "Hot",
            "metric": "temperature",
            "kind": "above",
            "value": "80",
            "window_minutes": "0",
            "priority": "normal",
        },
    )
    assert zero.status_code == 200 and not ThresholdRule.objects.exists()
    done = client.post(
        "/iot/rules/new/",
        {
            "name": "Hot",
            "metric": "temperature",
            "kind": "above",
            "value": "80",
            "window_minutes": "10",
            "priority": "high",
            "is_active": "on",
        },
    )
    assert done.status_code == 302
    rule = ThresholdRule.objects.get()
    assert client.get("/iot/rules/").status_code == 200 and client.get(f"/iot/rules/{rule.pk}/").status_code == 200


def test_rules_through_the_api(personas, api_client_for):
    client = api_client_for(personas.admin)
    refused = client.post(
        f"{API}/rules", json.dumps({"name": "Hot", "metric": "temperature", "kind": "above"}), content_type=JSON
    )
    assert refused.status_code == 422 and "value" in refused.content.decode()
    created = client.post(
        f"{API}/rules",
        json.dumps({"name": "Hot", "metric": "temperature", "kind": "above", "value": 80, "window_minutes": 5}),
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    changed = client.patch(f"{API}/rules/{rule_id}", json.dumps({"window_minutes": 0}), content_type=JSON)
    assert changed.status_code == 422 and "window_minutes" in changed.content.decode()
    off = client.post(f"{API}/rules/{rule_id}/deactivate")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert client.get(f"{API}/rules").json()["items"][0]["id"] == rule_id
    code = client.post(f"{API}/alarm-codes", json.dumps({"code": "E7", "priority": "urgent"}), content_type=JSON)
    assert code.status_code == 201 and code.json()["priority"] == "urgent"


def _alarm_world(personas):
    iot.alarm_code(personas.admin, "E101")
    device_a, token_a = iot.device(personas.admin, personas.customer_a)
    device_z, token_z = iot.device(personas.admin, personas.customer_z)
    ingest(
        [
            iot.mqtt(token_a, alarms=[iot.alarm("E101", at=ago(10), severity="critical")]),
            iot.mqtt(token_z, alarms=[iot.alarm("W5", at=ago(8))]),
        ],
        now=NOW,
    )
    ingest([iot.mqtt(token_z, alarms=[iot.alarm("W5", state="cleared", at=ago(2))])], now=NOW)
    return device_a.machines.get(), device_z.machines.get()


def test_the_alarm_list_is_scoped_to_the_machines_one_may_see(personas, client_for, api_client_for):
    machine_a, machine_z = _alarm_world(personas)

    staff = client_for(personas.dispatcher).get("/iot/alarms/").content.decode()
    assert machine_a.serial_number in staff and machine_z.serial_number in staff
    own = client_for(personas.customer_user_a).get("/iot/alarms/").content.decode()
    assert machine_a.serial_number in own and machine_z.serial_number not in own
    other = api_client_for(personas.customer_user_z).get(f"{API}/alarms").json()["items"]
    assert [a["equipment"] for a in other] == [machine_z.pk]
    # A provider sees nothing until an order of the machine is dispatched to it.
    provider = api_client_for(personas.provider_admin)
    assert provider.get(f"{API}/alarms").json()["items"] == []
    order = WorkOrder.objects.get(equipment=machine_a)
    dispatch_to_provider(order, provider=personas.provider, actor=personas.dispatcher)
    seen = provider.get(f"{API}/alarms").json()["items"]
    assert [(a["equipment"], a["work_order"]) for a in seen] == [(machine_a.pk, order.pk)]


def test_the_alarm_list_filters(personas, client_for):
    machine_a, machine_z = _alarm_world(personas)
    client = client_for(personas.admin)

    open_only = client.get("/iot/alarms/", {"open_only": "on"}).content.decode()
    assert machine_a.serial_number in open_only and machine_z.serial_number not in open_only
    warnings = client.get("/iot/alarms/", {"severity": "warning"}).content.decode()
    assert machine_z.serial_number in warnings and machine_a.serial_number not in warnings
    of_z = client.get("/iot/alarms/", {"customer": personas.customer_z.pk}).content.decode()
    assert machine_z.serial_number in of_z and machine_a.serial_number not in of_z
