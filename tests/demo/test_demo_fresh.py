"""`fsm demo` (load_demo) on an empty database: the same seed gives the same data, a database
holding other data is refused, and the engineers' availability. Apart from test_demo.py, whose
tests share one loaded demo."""

import pytest
from django.core.management import CommandError
from django.db import transaction

from fieldservice.accounts.choices import Availability
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.assets.models import Equipment
from fieldservice.customers.models import Customer
from tests.demo.test_demo import counts, load


def test_the_same_seed_gives_the_same_data(db):
    def content():
        return (
            list(Customer.objects.order_by("pk").values_list("name", "tier", "industry")),
            list(Equipment.objects.order_by("pk").values_list("serial_number", "lot_number", "customer__name")),
        )

    with transaction.atomic():
        load()
        first = content()
        transaction.set_rollback(True)
    assert not Customer.objects.exists()
    load()
    assert content() == first


def test_refuses_a_database_that_holds_other_data(personas):
    before = counts()
    with pytest.raises(CommandError):
        load()
    assert counts() == before


def test_a_few_engineers_are_off_or_on_leave(db):
    load(scale=0.45)
    states = list(EngineerProfile.objects.values_list("availability", flat=True))
    assert states.count(Availability.ON_DUTY) > len(states) - 5
    assert Availability.OFF in states and Availability.ON_LEAVE in states
    assert User.objects.get(username="engineer").engineer_profile.availability == Availability.ON_DUTY
