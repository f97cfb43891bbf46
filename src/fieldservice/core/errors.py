"""Domain errors raised by services. Views and the API turn them into responses."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["DomainError", "PermissionDenied", "ValidationError", "field_error", "require"]


class DomainError(Exception):
    """An illegal move in the domain (e.g. invalidating an already invalidated machine).

    `code` is stable for API clients; `message` is translated for people.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def require(condition: bool, message: str = "") -> None:
    """Raise PermissionDenied unless `condition` holds."""
    if not condition:
        raise PermissionDenied(message)


def field_error(field: str, message, code: str = "invalid") -> ValidationError:
    """A validation error on one named field, for services to raise.

    The message is wrapped so its code survives: a dict of plain messages drops it, and the API
    reports the code as the error's "type"."""
    return ValidationError({field: ValidationError(message, code=code)})
