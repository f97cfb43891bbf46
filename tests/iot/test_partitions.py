"""The readings table: one row per machine, metric and moment whatever is sent twice; on
PostgreSQL its months are made as readings arrive and dropped whole past the retention."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from fieldservice.iot import partitions
from fieldservice.iot.models import Reading
from tests import factories

pytestmark = pytest.mark.django_db


def at(year, month, day=15):
    return dt.datetime(year, month, day, 12, tzinfo=dt.UTC)


def write(machine, moment, value=1.0):
    partitions.ensure_months([moment])
    Reading.objects.create(equipment=machine, metric="temp", at=moment, value=value, unit="°C")


def test_a_reading_is_stored_once_per_machine_metric_and_moment(personas):
    machine = factories.equipment(personas.customer_a)
    write(machine, at(2026, 11))
    with pytest.raises(IntegrityError), transaction.atomic():
        write(machine, at(2026, 11), value=2.0)
    assert list(Reading.objects.values_list("value", flat=True)) == [1.0]


@pytest.mark.django_db(transaction=True)  # the months are tables: made and dropped for real
def test_months_are_made_as_readings_arrive_and_dropped_past_the_retention(personas, settings, postgres_only):
    settings.FSM_IOT_RETENTION_DAYS = 60
    machine = factories.equipment(personas.customer_a)
    for moment in (at(2026, 8), at(2026, 11), at(2026, 12, 1)):
        write(machine, moment)
    assert partitions.existing_months() == [dt.date(2026, 8, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    # The readings went into their months.
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "iot_reading_y2026m11"')
        assert cursor.fetchone()[0] == 1

    dropped = partitions.apply_retention(now=at(2026, 12, 5))

    # August ended more than 60 days before; November has readings within them.
    assert dropped == 1
    assert partitions.existing_months() == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    assert sorted(m.month for m in Reading.objects.values_list("at", flat=True)) == [11, 12]
    partitions.apply_retention(now=at(2030, 1))
    assert partitions.existing_months() == []


def test_retention_deletes_old_readings_on_the_embedded_database(personas, settings):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL drops whole months")
    settings.FSM_IOT_RETENTION_DAYS = 60
    machine = factories.equipment(personas.customer_a)
    for moment in (at(2026, 8), at(2026, 11)):
        write(machine, moment)
    assert partitions.apply_retention(now=at(2026, 12, 5)) == 1
    assert [m.month for m in Reading.objects.values_list("at", flat=True)] == [11]


def test_the_rows_every_message_updates_are_updated_in_place(personas, postgres_only):
    """Latest values and presences leave half of each page free and index no column a message
    changes, so PostgreSQL updates them on their page (an update that adds a row version and its
    index entries each time made ingestion a third as fast)."""
    from fieldservice.iot.models import LatestValue, Presence
    from tests.iot.factories import device, http, reading

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN ('iot_latestvalue', 'iot_presence')")
        options = dict(cursor.fetchall())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename IN ('iot_latestvalue', 'iot_presence')")
        indexed = " ".join(row[0] for row in cursor.fetchall())
    assert options == {"iot_latestvalue": ["fillfactor=50"], "iot_presence": ["fillfactor=50"]}
    assert "(last_seen_at)" not in indexed and "(value)" not in indexed and "(at)" not in indexed

    from fieldservice.iot.services.ingest import ingest

    machine_device, token = device(personas.admin, personas.customer_a)
    machine = machine_device.machines.get()
    start = at(2026, 11)
    for minute in range(3):
        moment = start + dt.timedelta(minutes=minute)
        partitions.ensure_months([moment])
        assert ingest(
            [http(token, readings=[reading(value=20.0 + minute, at=moment, machine=machine.serial_number)])], now=moment
        )[0].ok
    assert LatestValue.objects.get(equipment=machine).value == 22.0
    assert Presence.objects.get(equipment=machine).last_seen_at == start + dt.timedelta(minutes=2)
