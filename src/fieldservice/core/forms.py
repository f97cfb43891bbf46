"""Shared form plumbing for the pages."""

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form: each message next to the field it names
    (`aliases` maps a service field name to a form field name); the rest at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        name = (aliases or {}).get(field, field)
        for item in errors:
            form.add_error(name if name in form.fields else None, item)
