"""Uniqueness rules hold under real concurrent transactions (PostgreSQL): the loser gets a
field error naming what clashed, never a server error, and exactly one row is written."""

import pytest
from django.core.exceptions import ValidationError

from fieldservice.assets.models import Equipment
from fieldservice.customers.models import Customer
from tests import factories
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(5))
def test_two_registrations_of_one_serial_leave_one_machine(attempt):
    admin = factories.system_user()
    customer = factories.customer(actor=admin)
    model = factories.product_model(actor=admin)

    def register():
        return factories.equipment(customer, actor=admin, product_model=model, serial_number="SN-RACE")

    outcomes = run_concurrently(register, register)
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ValidationError)
    assert "serial_number" in error.error_dict
    assert Equipment.objects.filter(product_model=model, serial_number="SN-RACE").count() == 1


def test_customers_created_at_once_get_distinct_codes():
    admin = factories.system_user()
    outcomes = run_concurrently(*[lambda i=i: factories.customer(actor=admin, name=f"Race {i}") for i in range(4)])
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    codes = [customer.code for _, customer in outcomes]
    assert len(set(codes)) == 4
    assert Customer.objects.filter(name__startswith="Race").count() == 4


@pytest.mark.parametrize("what", ["site", "contact"])
def test_a_site_name_or_contact_phone_taken_at_once_is_a_field_error(what):
    admin = factories.system_user()
    customer = factories.customer(actor=admin)
    if what == "site":
        field, calls = "name", [lambda: factories.site(customer, actor=admin, name="Plant 1")] * 2
    else:
        field, calls = "phone", [lambda: factories.contact(customer, actor=admin, phone="13800138000")] * 2
    outcomes = run_concurrently(*calls)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ValidationError) and field in error.error_dict
    related = customer.sites if what == "site" else customer.contacts
    assert related.count() == 1
