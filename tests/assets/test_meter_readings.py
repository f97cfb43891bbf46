"""Meter readings: counters only go up, readings in the future or nonsense values are refused
naming the field, and two readings entered at once are checked against each other."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from fieldservice.assets.choices import OPERATING_HOURS, MeterSource
from fieldservice.assets.models import MeterReading
from fieldservice.assets.services import last_reading, record_meter_reading
from fieldservice.core.errors import DomainError


def refused(excinfo) -> tuple[str, str]:
    """The one field a refusal names, and its code."""
    ((field, errors),) = excinfo.value.error_dict.items()
    return field, errors[0].code


def reading(world, value, **kwargs):
    kwargs.setdefault("source", MeterSource.OFFICE)
    kwargs.setdefault("actor", world.agent)
    return record_meter_reading(world.machine_a, value=value, **kwargs)


def test_a_reading_is_stored_and_is_the_last_one(world):
    reading(world, "1200.5", unit="h")
    later = reading(world, 1300)
    assert last_reading(world.machine_a) == later
    assert later.value == Decimal("1300.00")
    assert later.meter == OPERATING_HOURS
    assert last_reading(world.machine_z) is None


@pytest.mark.parametrize(
    ("value", "code"), [("abc", "invalid"), ("-1", "out_of_range"), ("NaN", "out_of_range"), ("1e13", "out_of_range")]
)
def test_nonsense_values_are_refused_naming_the_value(world, value, code):
    with pytest.raises(ValidationError) as caught:
        reading(world, value)
    assert refused(caught) == ("value", code)
    assert not MeterReading.objects.exists()


def test_a_counter_never_goes_down(world):
    reading(world, 500)
    with pytest.raises(ValidationError) as caught:
        reading(world, 499)
    assert refused(caught) == ("value", "below_previous")
    # Another meter of the same machine counts on its own.
    record_meter_reading(world.machine_a, actor=world.agent, value=3, source=MeterSource.OFFICE, meter="cycles")
    assert MeterReading.objects.count() == 2


def test_a_late_entry_must_fit_between_the_readings_around_it(world):
    now = timezone.now()
    reading(world, 100, read_at=now - dt.timedelta(days=10))
    reading(world, 200, read_at=now - dt.timedelta(days=1))
    reading(world, 150, read_at=now - dt.timedelta(days=5))
    with pytest.raises(ValidationError) as caught:
        reading(world, 250, read_at=now - dt.timedelta(days=3))
    assert refused(caught) == ("value", "above_next")


def test_a_reading_in_the_future_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        reading(world, 10, read_at=timezone.now() + dt.timedelta(hours=2))
    assert refused(caught) == ("read_at", "in_future")


def test_only_the_customer_page_or_a_machine_reads_without_an_actor(world):
    with pytest.raises(DomainError):
        reading(world, 10, actor=None, source=MeterSource.OFFICE)
    assert reading(world, 10, actor=None, source=MeterSource.CUSTOMER).recorded_by is None
    with pytest.raises(ValidationError) as caught:
        reading(world, 11, source="telepathy")
    assert refused(caught)[0] == "source"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
@pytest.mark.parametrize("attempt", range(3))
def test_two_readings_at_once_never_make_the_counter_go_down(world, attempt):
    """Without the machine's lock both would see no earlier reading and both be stored, the later
    one lower: each call waits for the other and is checked against it."""
    from tests.concurrency import run_concurrently

    now = timezone.now()
    high = lambda: reading(world, 100, read_at=now - dt.timedelta(minutes=2))  # noqa: E731
    low_later = lambda: reading(world, 90, read_at=now - dt.timedelta(minutes=1))  # noqa: E731
    outcomes = run_concurrently(high, low_later)
    kinds = [kind for kind, _ in outcomes]
    stored = list(MeterReading.objects.order_by("read_at").values_list("value", flat=True))
    # Whichever committed first, the counter read in time order never goes down.
    assert stored == sorted(stored)
    assert kinds.count("ok") == len(stored) == 1, outcomes
