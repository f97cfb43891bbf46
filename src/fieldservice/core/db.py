"""Database helpers shared by the services."""

import json
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL

T = TypeVar("T")


def write_checked(write: Callable[[], T], recheck: Callable[[], object]) -> T:
    """Run `write` in a savepoint. A service checks uniqueness before writing, but a concurrent
    transaction can commit the same value in between; the database's constraint then refuses
    the write, and `recheck` (which now sees the committed row) raises the field error a person
    can act on. If `recheck` finds nothing, the original IntegrityError stands."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        recheck()
        raise


def any_of(ids):
    """A value for `__in`: on PostgreSQL one array literal instead of one parameter per id (a
    10,000-id list costs more to send, and to adapt, than the query takes to run). An `any_of`
    result passes through, so several queries over one batch build the literal once."""
    if isinstance(ids, RawSQL):
        return ids
    ids = list(ids)
    if connection.vendor == "postgresql" and len(ids) > 50:
        return RawSQL("SELECT unnest(%s::bigint[])", (int_array(ids),))
    return ids


def int_array(values) -> str:
    """A PostgreSQL bigint[] literal (None as NULL): a whole column as one parameter, which the
    server parses far faster than one parameter per row."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def text_array(values) -> str:
    """A PostgreSQL text[] literal (None as NULL)."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def insert_rows(model, rows: list[dict], *, on_conflict: str = "", returning: str = "", **constants) -> list | None:
    """Insert many rows of `model` in one statement: `rows` give each row's values by attribute
    name (`work_order_id`), `constants` the values every row shares; a field named in neither
    gets its default. On PostgreSQL each column travels as one text[] literal cast to the
    column's type by the server: Django's bulk_create prepares and adapts every value of every
    row in Python, ten times the cost for a rule pass's ten thousand rows. Elsewhere it is
    bulk_create. `on_conflict` ("DO NOTHING", or "(columns) DO NOTHING") skips the rows a unique
    constraint refuses, where a concurrent writer got there first (bulk_create's ignore_conflicts
    elsewhere). `returning` (a column) returns that column of the rows written, on PostgreSQL
    (None elsewhere). A hot path with many rows that needs ON CONFLICT (the readings of
    machines) stages them by COPY instead: `staged_rows`."""
    if not rows:
        return [] if returning else None
    fields = _written_fields(model, rows)
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**{f.attname: _value(f, row, constants) for f in fields}) for row in rows),
            batch_size=2000,
            ignore_conflicts=bool(on_conflict),
        )
        return None
    if not (on_conflict or returning):
        _copy_rows(model, fields, rows, constants)
        return None
    named = set().union(*rows)
    varying, shared = [], []
    for f in fields:
        if f.attname in named:
            name, fallback = f.attname, _fallback(f, constants)
            column = [row.get(name, fallback) for row in rows]
            first = column[0]
            if any(value != first for value in column):
                varying.append((f, column))
                continue
            shared.append((f, first))
        else:
            # A column with one value in every row travels once, as a parameter.
            shared.append((f, _fallback(f, constants)))
    columns = ", ".join(connection.ops.quote_name(f.column) for f, _values in varying + shared)
    selected = ", ".join(
        [f"v.c{n}::{f.db_type(connection)}" for n, (f, _column) in enumerate(varying)]
        + [f"%s::{f.db_type(connection)}" for f, _value in shared]
    )
    params = [f.get_db_prep_save(value, connection) for f, value in shared]
    if varying:
        names = ", ".join(f"c{n}" for n in range(len(varying)))
        source = f"unnest({', '.join('%s::text[]' for _f in varying)}) AS v({names})"
        params += [_text_column(column) for _f, column in varying]
    else:  # identical rows
        source = "generate_series(1, %s)"
        params.append(len(rows))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {source}"
            + (f" ON CONFLICT {on_conflict}" if on_conflict else "")
            + (f" RETURNING {connection.ops.quote_name(returning)}" if returning else ""),
            params,  # in the order of the placeholders: the shared values, then the source's
        )
        if returning:
            return [row[0] for row in cursor.fetchall()]
    return None


def _written_fields(model, rows: list[dict]) -> list:
    """The fields a write of `rows` fills: an automatic key is the database's to give (unless the
    rows name it: ids taken beforehand with `reserve_ids`); a key that is a field (a one-to-one)
    is the row's."""
    return [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField") and f.attname not in rows[0])
    ]


@contextmanager
def staged_rows(model, rows: list[dict], *, fields=None, **constants):
    """PostgreSQL: `rows` of `model` (as `insert_rows` takes them) COPYed into a temporary table
    shaped like its columns, without constraints; yields (the table's quoted name, its quoted
    columns) for the caller's statements (an insert that skips conflicts, a second table derived
    from the same rows without sending them twice), and drops it after them. A transaction of its
    own outside one; inside one, no savepoint (an error rolls the caller back)."""
    if fields is None:
        fields = _written_fields(model, rows)
    quote = connection.ops.quote_name
    staging = quote(f"staged_{model._meta.db_table}"[:63])
    columns = ", ".join(quote(f.column) for f in fields)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Dropped after the caller's statements (so the same transaction may stage again), and at
        # commit or rollback in any case.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {columns} "  # noqa: S608
            f"FROM {quote(model._meta.db_table)} WITH NO DATA"
        )
        _copy_rows(model, fields, rows, constants, into=staging)
        yield staging, columns
        cursor.execute(f"DROP TABLE {staging}")


def _copy_rows(model, fields, rows: list[dict], constants: dict, *, into: str = "") -> None:
    """Insert with COPY: the driver formats the rows in C and the server writes them in batches,
    the fastest way in for a batch that needs no ON CONFLICT or RETURNING (a maintenance run's
    orders, their clocks, parts and log lines). `into`: another (quoted) table with the same
    columns, a staging table."""
    named = set().union(*rows)
    # Every row starts as the columns no row names (their shared value, written as it goes);
    # the named ones are filled in per row, their values checked for what the driver adapts.
    base = []
    varying = []  # (position, attribute name, fallback, JSON column)
    for n, f in enumerate(fields):
        is_json = f.get_internal_type() == "JSONField"
        fallback = _fallback(f, constants)
        if f.attname in named:
            varying.append((n, f.attname, fallback, is_json))
            base.append(None)
        else:
            base.append(_copyable(fallback, is_json))
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = into or connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = base.copy()
            for n, name, fallback, is_json in varying:
                value = row.get(name, fallback)
                values[n] = _copyable(value, is_json) if is_json or type(value) not in _ADAPTED else value
            copy.write_row(values)


# What the driver writes as it is (a str or int subclass, a choice, is checked by _copyable).
_ADAPTED = frozenset({int, str, bool, float, Decimal, date, datetime, dt_time, timedelta, UUID, bytes, type(None)})


def _copyable(value, is_json: bool = False):
    """A value as COPY takes it: a JSON document as its text (a date or an amount in it as its
    text), one the driver cannot adapt (a file) as its string."""
    if is_json:
        return None if value is None else json.dumps(value, default=str)
    if value is None or isinstance(value, int | str | float | Decimal | date | dt_time | timedelta | UUID | bytes):
        return value
    return str(value)


def instances_of(model, rows: list[dict]) -> list:
    """Model instances of rows (dicts by attribute name) just written or read with .values(), as
    a query would build them. Model.__init__ runs through every field for every row (a third of a
    second for a maintenance run's 23,000 orders); with no init signal to send, the attributes
    are set directly, as __init__ would set them. A field a row lacks is deferred: reading it
    loads it, as after .only()."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        names = [f.attname for f in model._meta.concrete_fields]
        return [model.from_db("default", names, [row[name] for name in names]) for row in rows]
    instances = []
    for row in rows:
        instance = model.__new__(model)
        instance.__dict__ = dict(row)
        instance._state = ModelState()
        instance._state.adding, instance._state.db = False, "default"
        instances.append(instance)
    return instances


def reserve_ids(model, count: int) -> list[int] | None:
    """Take `count` ids of the model's automatic key from its sequence before inserting, on
    PostgreSQL (None elsewhere): rows that must know their id as they are written (a number made
    of it, a row of another table pointing at it) are then written in one statement each, with no
    UPDATE after. An id taken and not used is a gap, as a rolled-back insert leaves."""
    if connection.vendor != "postgresql" or count <= 0:
        return None if connection.vendor != "postgresql" else []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
        )
        return [row[0] for row in cursor.fetchall()]


def _value(field, row: dict, constants: dict):
    if field.attname in row:
        return row[field.attname]
    return _fallback(field, constants)


def _fallback(field, constants: dict):
    """A column's value in a row that does not name it: the shared constant, else the default."""
    if field.attname in constants:
        return constants[field.attname]
    return field.get_default()


def _text_column(values: list) -> str:
    """A column as a text[] literal; integers (ids, most of a batch) skip the quoting."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return text_array(map(_as_text, values))


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
