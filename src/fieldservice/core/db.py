"""Database helpers shared by the services."""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, transaction

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
