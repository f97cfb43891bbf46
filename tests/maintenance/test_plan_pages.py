"""The plan pages: the form names the refused field, the calendar counts by week/area/engineer
and exports, "generate now", the machine page's reading form and the QR page's reading."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fieldservice.assets.models import MeterReading
from fieldservice.maintenance.models import DueVisit, MaintenancePlan
from tests import factories
from tests.maintenance.plan_factories import machine, plan

pytestmark = pytest.mark.django_db


def test_plan_form_refuses_a_zero_interval_naming_it_then_saves(personas, client_for):
    model = factories.product_model()
    client = client_for(personas.dispatcher)
    body = {
        "name": "Half-yearly",
        "scope": "model",
        "product_model": model.pk,
        "interval_months": "0",
        "calendar_base": "installation",
        "meter": "operating_hours",
        "lead_days": "14",
        "service_type": "maintenance",
        "priority": "normal",
        "is_active": "on",
        "starts_on": "2026-01-01",
    }
    response = client.post(reverse("maintenance:plan_create"), body)
    assert response.status_code == 200
    assert "interval_months" in response.context["form"].errors
    assert not MaintenancePlan.objects.exists()
    response = client.post(reverse("maintenance:plan_create"), {**body, "interval_months": "6"})
    made = MaintenancePlan.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("maintenance:plan_detail", args=[made.pk])
    assert made.interval_months == 6


def test_calendar_counts_by_week_area_and_exports(personas, client_for):
    today = timezone.localdate()
    model = factories.product_model()
    site = factories.site(personas.customer_a, city="宁波市")
    for _n in range(2):
        machine(personas.customer_a, model=model, site=site, installed_on=today.replace(year=today.year - 1))
    plan(product_model=model, interval_months=12, lead_days=5)
    client = client_for(personas.dispatcher)
    assert client.post(reverse("maintenance:generate_now")).status_code == 302
    assert DueVisit.objects.count() == 2
    response = client.get(reverse("maintenance:calendar"))
    rows = list(response.context["rows"])
    assert [(row["area"], row["count"]) for row in rows] == [("宁波市", 2)]
    exported = client.get(reverse("maintenance:calendar") + "?export=xlsx")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/vnd.openxmlformats")
    # The customer of another company sees nothing of it.
    other = client_for(personas.customer_user_z).get(reverse("maintenance:calendar"))
    assert list(other.context["rows"]) == []


def test_machine_page_shows_plans_and_records_a_reading(personas, client_for):
    unit = machine(personas.customer_a, installed_on=dt.date(2025, 1, 1))
    made = plan(equipment=unit, name="Quarterly check")
    client = client_for(personas.dispatcher)
    page = client.get(reverse("assets:equipment_detail", args=[unit.pk])).content.decode()
    assert "maintenance-panel" in page and made.name in page
    response = client.post(
        reverse("maintenance:record_reading", args=[unit.pk]), {"value": "321", "meter": "operating_hours"}
    )
    assert response.status_code == 302
    reading = MeterReading.objects.get(equipment=unit)
    assert (reading.value, reading.source, reading.recorded_by_id) == (321, "office", personas.dispatcher.pk)
    # Another customer's user cannot reach the machine.
    other = client_for(personas.customer_user_z)
    assert (
        other.post(reverse("maintenance:record_reading", args=[unit.pk]), {"value": "999", "meter": "x"}).status_code
        == 404
    )
    assert MeterReading.objects.count() == 1


def test_qr_page_takes_a_reading_without_login_and_limits_them(personas, client):
    unit = machine(personas.customer_a)
    url = reverse("public:meter_reading", args=[unit.public_token])
    assert "meter-reading" in client.get(reverse("public:equipment", args=[unit.public_token])).content.decode()
    for value in (10, 20, 30):
        assert client.post(url, {"value": str(value)}).status_code == 200
    assert client.post(url, {"value": "40"}).status_code == 429
    assert list(MeterReading.objects.order_by("value").values_list("value", "source")) == [
        (10, "customer"),
        (20, "customer"),
        (30, "customer"),
    ]
    lower = client.post(url, {"value": "5"})
    assert MeterReading.objects.count() == 3 and lower.status_code in (200, 429)
