"""Who sees which plans and due visits: customers their own machines', providers the visits of
orders dispatched to them; every crossing tried, through the selectors, the pages and the API."""

import datetime as dt

import pytest
from django.urls import reverse

from fieldservice.dispatch.assignments import services as dispatch
from fieldservice.maintenance.models import DueVisit, MaintenancePlan
from fieldservice.maintenance.selectors import plans as selectors
from fieldservice.maintenance.services import plans as svc
from tests import factories
from tests.maintenance.plan_factories import machine, plan

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 10)


@pytest.fixture
def world(personas):
    mine = machine(personas.customer_a, installed_on=dt.date(2025, 12, 20))
    theirs = machine(personas.customer_z, installed_on=dt.date(2025, 12, 20))
    plan_a = plan(equipment=mine, name="A's plan", lead_days=14)
    plan_z = plan(equipment=theirs, name="Z's plan", lead_days=14)
    model_plan = plan(product_model=theirs.product_model, name="Z's model plan", lead_days=14)
    svc.generate_due_visits(actor=None, today=TODAY)
    visit_a = DueVisit.objects.get(equipment=mine)
    visit_z = DueVisit.objects.get(equipment=theirs)
    return dict(plan_a=plan_a, plan_z=plan_z, model_plan=model_plan, visit_a=visit_a, visit_z=visit_z)


def test_customers_see_only_plans_and_visits_of_their_machines(personas, world):
    assert set(selectors.plans_for(personas.customer_user_a)) == {world["plan_a"]}
    assert set(selectors.plans_for(personas.customer_user_z)) == {world["plan_z"], world["model_plan"]}
    assert set(selectors.due_visits_for(personas.customer_user_a)) == {world["visit_a"]}
    assert set(selectors.due_visits_for(personas.customer_user_z)) == {world["visit_z"]}
    assert set(selectors.plans_for(personas.dispatcher)) == set(MaintenancePlan.objects.all())


def test_providers_see_only_visits_of_orders_dispatched_to_them(personas, world):
    assert not selectors.plans_for(personas.provider_admin).exists()
    assert not selectors.due_visits_for(personas.provider_admin).exists()
    dispatch.dispatch_to_provider(world["visit_a"].work_order, actor=personas.dispatcher, provider=personas.provider)
    assert set(selectors.due_visits_for(personas.provider_admin)) == {world["visit_a"]}
    assert not selectors.due_visits_for(personas.other_provider_admin).exists()
    assert not selectors.due_visits_for(personas.engineer).exists()


def test_pages_and_api_404_across_the_line(personas, world, client_for, api_client_for):
    other = world["plan_z"]
    client = client_for(personas.customer_user_a)
    assert client.get(reverse("maintenance:plan_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("maintenance:plan_detail", args=[world["plan_a"].pk])).status_code == 200
    listing = client.get(reverse("maintenance:due_list")).content.decode()
    assert world["visit_a"].work_order.number in listing and world["visit_z"].work_order.number not in listing
    api = api_client_for(personas.customer_user_a)
    assert api.get(f"/api/v1/maintenance/plans/{other.pk}").status_code == 404
    assert api.get(f"/api/v1/maintenance/due-visits/{world['visit_z'].pk}").status_code == 404
    assert [row["id"] for row in api.get("/api/v1/maintenance/due-visits").json()["items"]] == [world["visit_a"].pk]
    # Nor may a customer change a plan, even its own.
    before = MaintenancePlan.objects.get(pk=world["plan_a"].pk).name
    response = api.patch(
        f"/api/v1/maintenance/plans/{world['plan_a'].pk}", {"name": "Mine now"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert MaintenancePlan.objects.get(pk=world["plan_a"].pk).name == before
    assert api.post("/api/v1/maintenance/plans/generate").status_code == 403
    assert client.post(reverse("maintenance:generate_now")).status_code == 403


def test_meter_readings_api_is_scoped_like_the_machine(personas, world, api_client_for):
    mine, theirs = world["visit_a"].equipment, world["visit_z"].equipment
    api = api_client_for(personas.customer_user_a)
    url = f"/api/v1/equipment/{theirs.pk}/meter-readings"
    assert api.post(url, {"value": "10"}, content_type="application/json").status_code == 404
    assert api.get(url).status_code == 404
    assert not theirs.meter_readings.exists()
    own = f"/api/v1/equipment/{mine.pk}/meter-readings"
    made = api.post(own, {"value": "120.5"}, content_type="application/json")
    assert made.status_code == 201 and made.json()["source"] == "customer"
    lower = api.post(own, {"value": "100"}, content_type="application/json")
    assert lower.status_code == 422 and lower.json()["detail"][0]["loc"] == ["body", "value"]
    assert [row["value"] for row in api.get(own).json()["items"]] == ["120.50"]


def test_api_creates_plans_and_names_the_bad_field(personas, api_client_for):
    api = api_client_for(personas.dispatcher)
    model = factories.product_model()
    body = {"name": "Yearly", "scope": "model", "product_model": model.pk, "starts_on": "2026-01-01"}
    missing = api.post("/api/v1/maintenance/plans", {**body}, content_type="application/json")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "interval_months"]
    zero = api.post("/api/v1/maintenance/plans", {**body, "interval_months": 0}, content_type="application/json")
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["body", "interval_months"]
    assert not MaintenancePlan.objects.exists()
    made = api.post("/api/v1/maintenance/plans", {**body, "interval_months": 12}, content_type="application/json")
    assert made.status_code == 201 and made.json()["interval_months"] == 12
    generated = api.post("/api/v1/maintenance/plans/generate")
    assert generated.status_code == 200 and generated.json()["plans"] == 1
