"""core.db.insert_rows: the one-statement insert a rule pass writes its rows with, on both
databases: every value comes back as it went in, whatever characters a note holds."""

from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from fieldservice.core.db import insert_rows, instances_of, staged_rows
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from tests import factories

pytestmark = pytest.mark.django_db

AWKWARD = [
    'He said "stop", then left',
    "C:\\machines\\M-3 and a \\\\ share",
    "{braces}, commas, and NULL",
    "NULL",
    "",
    "多行\n备注\t制表",
    "emoji 🛠 and ' single quotes",
]


def test_every_value_comes_back_as_it_went_in():
    order = factories.work_order()
    at = timezone.now()
    rows = [
        {
            "work_order_id": order.pk,
            "action": f"note{n}",
            "note": note,
            "payload": {"note": note, "n": n, "nested": [None, True, 1.5]},
            "latitude": Decimal("31.230416") if n % 2 else None,
        }
        for n, note in enumerate(AWKWARD)
    ]
    insert_rows(WorkOrderEvent, rows, at=at)
    events = list(WorkOrderEvent.objects.filter(work_order=order, action__startswith="note").order_by("pk"))
    assert [e.note for e in events] == AWKWARD
    assert [e.payload for e in events] == [row["payload"] for row in rows]
    assert [e.latitude for e in events] == [row["latitude"] for row in rows]
    # A field no row names gets its default; a shared value is every row's.
    assert {(e.from_status, e.actor_id, e.longitude, e.at) for e in events} == {("", None, None, at)}


def test_nothing_to_insert_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_rows(WorkOrderEvent, [])


def test_identical_rows_are_each_inserted():
    order = factories.work_order()
    insert_rows(WorkOrderEvent, [{"work_order_id": order.pk, "action": "same"}] * 3, at=timezone.now())
    assert WorkOrderEvent.objects.filter(work_order=order, action="same").count() == 3


def through_staging(model, rows, *, on_conflict="", returning="", **constants):
    """What ingest does with `staged_rows`: COPY into the staging table, then its own INSERT."""
    table = connection.ops.quote_name(model._meta.db_table)
    with staged_rows(model, rows, **constants) as (staging, columns), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"
            + (f" ON CONFLICT {on_conflict}" if on_conflict else "")
            + (f" RETURNING {returning}" if returning else "")
        )
        return [row[0] for row in cursor.fetchall()] if returning else None


@pytest.fixture(params=["one statement", "staged by COPY"])
def write(request):
    """Inserts with ON CONFLICT or RETURNING: insert_rows' one statement, or a staging table
    filled by COPY (PostgreSQL only)."""
    if request.param == "one statement":
        return insert_rows
    if connection.vendor != "postgresql":
        pytest.skip("COPY into a staging table is PostgreSQL's")
    return through_staging


def test_staged_rows_come_back_as_they_went_in_and_return_what_they_wrote(write):
    order = factories.work_order()
    at = timezone.now()
    rows = [
        {"work_order_id": order.pk, "action": f"staged{n}", "note": note, "payload": {"note": note}}
        for n, note in enumerate(AWKWARD)
    ]
    ids = write(WorkOrderEvent, rows, on_conflict="DO NOTHING", returning="id", at=at)
    events = list(WorkOrderEvent.objects.filter(work_order=order, action__startswith="staged").order_by("pk"))
    assert [e.note for e in events] == AWKWARD and [e.payload["note"] for e in events] == AWKWARD
    assert {e.at for e in events} == {at}
    if connection.vendor == "postgresql":
        assert sorted(ids) == [e.pk for e in events]
    # Twice in one transaction: the staging table of the first call is gone.
    write(WorkOrderEvent, rows[:2], on_conflict="DO NOTHING", returning="id", at=at)
    assert WorkOrderEvent.objects.filter(work_order=order, action__startswith="staged").count() == len(AWKWARD) + 2


def test_rows_that_skip_conflicts_return_what_they_wrote(write):
    order = factories.work_order()
    part_a, part_b = factories.part(), factories.part()
    from fieldservice.workorders.models import NeededPart

    insert_rows(NeededPart, [{"work_order_id": order.pk, "part_id": part_a.pk, "quantity": Decimal("1")}])
    written = write(
        NeededPart,
        [
            {"work_order_id": order.pk, "part_id": part_a.pk, "quantity": Decimal("5")},
            {"work_order_id": order.pk, "part_id": part_b.pk, "quantity": Decimal("2")},
        ],
        on_conflict="(work_order_id, part_id) DO NOTHING",
        returning="part_id",
    )
    if connection.vendor == "postgresql":
        assert written == [part_b.pk]
    assert dict(NeededPart.objects.filter(work_order=order).values_list("part_id", "quantity")) == {
        part_a.pk: Decimal("1"),
        part_b.pk: Decimal("2"),
    }


def test_instances_of_rows_are_what_a_query_builds():
    order = factories.work_order()
    row = WorkOrder.objects.filter(pk=order.pk).values("id", "number", "customer_id", "status").get()

    (built,) = instances_of(WorkOrder, [row])

    assert (built.pk, built.number, built.customer_id, built.status) == (
        order.pk,
        order.number,
        order.customer_id,
        order.status,
    )
    assert built.customer == order.customer and not built._state.adding
    # A field the row lacks loads when read, as after .only().
    assert built.description == order.description
