"""Input is refused with the field named, never taken or altered silently: over-long text (also in
the services, which used to cut it), dates outside sane bounds, and a channel the client may not
choose. The API-wide cases (every body's text fields, NUL bytes) are in test_openapi_contract."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from fieldservice.accounts.models import ServiceArea
from fieldservice.assets.models import Equipment
from fieldservice.contracts.models import Contract
from fieldservice.core.validation import check_date
from fieldservice.planning.models import PlanningRun
from fieldservice.scheduling.models import Absence
from fieldservice.workorders.models import ServiceRequest
from fieldservice.workorders.services import intake
from tests import factories

API = "/api/v1"


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def named(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {str(item["loc"][-1]) for item in response.json()["detail"]}


# Text


def test_the_service_refuses_a_too_long_reporter_name_instead_of_cutting_it(personas):
    with pytest.raises(ValidationError) as error:
        intake.file_request(
            actor=personas.admin,
            channel="phone",
            customer=personas.customer_a,
            description="Leaks",
            reporter_name="x" * 5000,
        )
    assert set(error.value.error_dict) == {"reporter_name"}
    assert not ServiceRequest.objects.exists()


def test_the_api_refuses_a_too_long_reporter_name(api_client_for, personas):
    body = {"customer": personas.customer_a.pk, "description": "Leaks", "reporter_name": "x" * 5000}
    assert named(post(api_client_for(personas.agent), f"{API}/requests", body)) == {"reporter_name"}
    assert not ServiceRequest.objects.exists()


def test_the_service_refuses_a_too_long_absence_note(personas):
    from fieldservice.scheduling.services import create_absence

    engineer = factories.engineer(personas.own)
    start = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(ValidationError) as error:
        create_absence(
            actor=personas.admin,
            engineer=engineer,
            kind="leave",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            note="x" * 301,
        )
    assert "note" in error.value.error_dict
    assert not Absence.objects.exists()


# Dates


@pytest.mark.parametrize("day", [dt.date(1800, 1, 1), dt.date(1949, 12, 31), dt.date(9999, 12, 31)])
def test_check_date_refuses_dates_outside_the_bounds(day):
    with pytest.raises(ValidationError) as error:
        check_date(day, field="installed_on")
    assert set(error.value.error_dict) == {"installed_on"}


def test_check_date_lets_ordinary_dates_through():
    today = timezone.localdate()
    for day in (dt.date(1950, 1, 1), today, today.replace(year=today.year + 10), None):
        assert check_date(day, field="day") == day


@pytest.mark.parametrize(
    ("field", "value"),
    [("installed_on", "1800-01-01"), ("warranty_ends_on", "9999-12-31"), ("warranty_starts_on", "0001-01-01")],
)
def test_equipment_dates_out_of_bounds_are_422(api_client_for, personas, field, value):
    model = factories.product_model(actor=personas.admin)
    body = {"product_model": model.pk, "serial_number": "S-1", "customer": personas.customer_a.pk, field: value}
    assert field in named(post(api_client_for(personas.admin), f"{API}/equipment", body))
    assert not Equipment.objects.filter(serial_number="S-1").exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "field"),
    [("9999-01-01", "9999-12-31", "starts_on"), ("2026-01-01", "9999-12-31", "ends_on")],
)
def test_contract_dates_out_of_bounds_are_422(api_client_for, personas, starts_on, ends_on, field):
    machine = factories.equipment(personas.customer_a)
    body = {
        "customer": personas.customer_a.pk,
        "equipment": [machine.pk],
        "starts_on": starts_on,
        "ends_on": ends_on,
    }
    factories.contract(personas.customer_z, actor=personas.admin)  # makes the default SLA policy
    before = Contract.objects.count()
    assert field in named(post(api_client_for(personas.admin), f"{API}/contracts", body))
    assert Contract.objects.count() == before


def test_a_planning_run_for_year_one_is_422(api_client_for, personas):
    area = ServiceArea.objects.create(name="Ningbo", city="Ningbo")
    body = {"day": "0001-01-01", "area": area.pk}
    assert named(post(api_client_for(personas.admin), f"{API}/planning/runs", body)) == {"day"}
    assert not PlanningRun.objects.exists()


def test_a_visit_planned_in_year_9999_is_422(api_client_for, personas):
    order = factories.work_order(personas.customer_a, actor=personas.admin)
    body = {"planned_start": "9999-06-01T09:00:00+08:00"}
    assert named(post(api_client_for(personas.admin), f"{API}/work-orders/{order.pk}/visit", body)) == {"planned_start"}


# The channel


def test_a_customer_cannot_file_through_the_api_as_a_phone_call(api_client_for, personas):
    body = {"customer": personas.customer_a.pk, "description": "Leaks", "channel": "phone"}
    assert named(post(api_client_for(personas.customer_user_a), f"{API}/requests", body)) == {"channel"}
    assert not ServiceRequest.objects.exists()


def test_a_customer_request_through_the_api_is_marked_api(api_client_for, personas):
    body = {"customer": personas.customer_a.pk, "description": "Leaks"}
    response = post(api_client_for(personas.customer_user_a), f"{API}/requests", body)
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "api"


def test_our_desk_records_a_call_it_types_in(api_client_for, personas):
    body = {"customer": personas.customer_a.pk, "description": "Leaks", "channel": "phone"}
    response = post(api_client_for(personas.agent), f"{API}/requests", body)
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "phone"


@pytest.mark.parametrize("channel", ["qr", "iot"])
def test_not_even_our_desk_may_claim_a_door_it_did_not_use(api_client_for, personas, channel):
    body = {"customer": personas.customer_a.pk, "description": "Leaks", "channel": channel}
    assert named(post(api_client_for(personas.agent), f"{API}/requests", body)) == {"channel"}


def test_the_service_refuses_a_customer_claiming_a_phone_call(personas):
    with pytest.raises(ValidationError) as error:
        intake.file_request(
            actor=personas.customer_user_a, channel="phone", customer=personas.customer_a, description="Leaks"
        )
    assert set(error.value.error_dict) == {"channel"}
