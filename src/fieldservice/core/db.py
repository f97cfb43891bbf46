"""Database helpers shared by the services."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, connection, transaction
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
    (None elsewhere)."""
    if not rows:
        return [] if returning else None
    # An automatic key is the database's to give (unless the rows name it: ids taken beforehand
    # with `reserve_ids`); a key that is a field (a one-to-one) is the row's.
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and f.get_internal_type().endswith("AutoField") and f.attname not in rows[0])
    ]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**{f.attname: _value(f, row, constants) for f in fields}) for row in rows),
            batch_size=2000,
            ignore_conflicts=bool(on_conflict),
        )
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
