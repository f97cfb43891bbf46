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


def insert_rows(model, rows: list[dict], **constants) -> None:
    """Insert many rows of `model` in one statement: `rows` give each row's values by attribute
    name (`work_order_id`), `constants` the values every row shares; a field named in neither
    gets its default. On PostgreSQL each column travels as one text[] literal cast to the
    column's type by the server: Django's bulk_create prepares and adapts every value of every
    row in Python, ten times the cost for a rule pass's ten thousand rows. Elsewhere it is
    bulk_create."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**{f.attname: _value(f, row, constants) for f in fields}) for row in rows), batch_size=2000
        )
        return
    columns_of = {f.attname: [_value(f, row, constants) for row in rows] for f in fields}
    # A column with one value in every row travels once, as a parameter.
    varying = [f for f in fields if any(value != columns_of[f.attname][0] for value in columns_of[f.attname])]
    shared = [f for f in fields if f not in varying]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in varying + shared)
    selected = ", ".join(
        [f"v.c{n}::{f.db_type(connection)}" for n, f in enumerate(varying)]
        + [f"%s::{f.db_type(connection)}" for f in shared]
    )
    params = [f.get_db_prep_save(columns_of[f.attname][0], connection) for f in shared]
    if varying:
        names = ", ".join(f"c{n}" for n in range(len(varying)))
        source = f"unnest({', '.join('%s::text[]' for _f in varying)}) AS v({names})"
        params += [text_array(map(_as_text, columns_of[f.attname])) for f in varying]
    else:  # identical rows
        source = "generate_series(1, %s)"
        params.append(len(rows))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {source}",
            params,  # in the order of the placeholders: the shared values, then the source's
        )


def _value(field, row: dict, constants: dict):
    if field.attname in row:
        return row[field.attname]
    if field.attname in constants:
        return constants[field.attname]
    return field.get_default()


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
