"""Database helpers shared by the services."""

from collections.abc import Callable
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
    """A PostgreSQL text[] literal."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
