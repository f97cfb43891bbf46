"""Plan rules (each refusal names its field), the warnings, the expiry warning, the demand
inventory counts on."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.core.models import OutboxMessage
from fieldservice.inventory import hooks as inventory_hooks
from fieldservice.maintenance.models import MaintenancePlan, PlanScope
from fieldservice.maintenance.services import plans as svc
from tests import factories
from tests.maintenance.plan_factories import machine, plan

pytestmark = pytest.mark.django_db


def refused(field, **fields):
    before = MaintenancePlan.objects.count()
    with pytest.raises(ValidationError) as error:
        plan(**fields)
    assert field in error.value.message_dict, error.value.message_dict
    assert MaintenancePlan.objects.count() == before
    return error.value


def test_bad_plans_are_refused_naming_the_field(personas):
    model = factories.product_model()
    refused("interval_months", product_model=model, interval_months=None, interval_hours=None)
    refused("interval_months", product_model=model, interval_months=0)
    refused("interval_hours", product_model=model, interval_months=None, interval_hours=0)
    refused("meter", product_model=model, interval_months=None, interval_hours=500, meter="")
    refused("ends_on", product_model=model, starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 4, 30))
    refused("product_model", scope=PlanScope.MODEL, name="x")
    refused("service_type", product_model=model, service_type="repair")
    refused("lead_days", product_model=model, lead_days=400)
    refused("name", product_model=model, name="  ")
    contract = factories.contract(personas.customer_a)
    refused("contract", contract=contract)  # no maintenance visits a year
    part = factories.part()
    refused("parts[1].part", product_model=model, parts=[(part, 1), (part, 2)])
    refused("parts[0].quantity", product_model=model, parts=[(part, 0)])


def test_a_model_plan_without_machines_is_kept_with_a_warning(personas):
    made = plan(product_model=factories.product_model())
    assert MaintenancePlan.objects.filter(pk=made.pk).exists()
    assert svc.plan_warnings(made)
    machine(personas.customer_a, model=made.product_model)
    assert svc.plan_warnings(made) == []


def test_only_maintenance_managers_write_plans(personas):
    with pytest.raises(PermissionDenied):
        plan(actor=personas.agent, product_model=factories.product_model())
    made = plan(actor=personas.dispatcher, product_model=factories.product_model())
    with pytest.raises(PermissionDenied):
        svc.update_plan(made, actor=personas.customer_user_a, name="Mine")
    assert MaintenancePlan.objects.get(pk=made.pk).name == made.name


def test_update_keeps_what_is_not_given_and_replaces_the_parts(personas):
    first, second = factories.part(), factories.part()
    made = plan(product_model=factories.product_model(), parts=[(first, 1)], interval_months=6)
    svc.update_plan(made, actor=personas.admin, lead_days=7, parts=[(second, "2.5")])
    made.refresh_from_db()
    assert (made.lead_days, made.interval_months) == (7, 6)
    assert [(row.part_id, row.quantity) for row in made.parts.all()] == [(second.pk, Decimal("2.5"))]
    with pytest.raises(ValidationError) as error:
        svc.update_plan(made, actor=personas.admin, interval_months=0)
    assert "interval_months" in error.value.message_dict
    made.refresh_from_db()
    assert made.interval_months == 6


def test_plans_ending_soon_warn_their_owner_once(personas):
    today = timezone.localdate()
    made = plan(
        product_model=factories.product_model(), owner=personas.dispatcher, ends_on=today + dt.timedelta(days=20)
    )
    plan(product_model=factories.product_model(), owner=personas.dispatcher, ends_on=today + dt.timedelta(days=90))
    assert svc.warn_expiring_plans(today=today) == 1
    assert svc.warn_expiring_plans(today=today) == 0
    message = OutboxMessage.objects.get(topic="maintenance_plan.expiring")
    assert message.payload["recipients"] == [personas.dispatcher.pk]
    assert message.payload["context"]["plan"] == made.name
    # A week before the end, a second warning.
    assert svc.warn_expiring_plans(today=today + dt.timedelta(days=14)) == 1


def test_plan_parts_are_inventorys_maintenance_demand(personas):
    model = factories.product_model()
    for _n in range(3):
        machine(personas.customer_a, model=model, installed_on=dt.date(2025, 1, 1))
    part = factories.part()
    plan(product_model=model, interval_months=3, parts=[(part, 2)])
    demand = inventory_hooks.demand(inventory_hooks.MAINTENANCE, None)
    # 3 machines × a visit every 3 months in 90 days (about one) × 2.
    assert demand[part.pk] == pytest.approx(Decimal("5.913"), abs=Decimal("0.01"))
