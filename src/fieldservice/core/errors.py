"""Domain errors raised by services. Views and the API turn them into responses."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["DomainError", "PermissionDenied", "ValidationError", "require"]


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
