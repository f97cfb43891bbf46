"""Shared pieces of the HTTP API: strict schemas, bounded ids and pages, error mapping, idempotent creates."""

import contextlib
import hashlib
import inspect
import json
import typing
from functools import wraps
from typing import Annotated

from annotated_types import MaxLen
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination
from ninja.params.models import File, Form
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from fieldservice.core.models import IdempotentRequest
from fieldservice.core.validation import MAX_DB_INT, has_nul

# An id or number beyond what a database integer holds cannot name a row or be stored in one; let
# through, it reaches the database as an overflow (a 500) instead of a 422 naming the parameter.
MAX_INT32 = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
# Counts and minutes whose meaningful range the service checks (naming the field); this only keeps
# them within a database integer column (PostgreSQL's `integer`).
Int32 = Annotated[int, Field(ge=-MAX_INT32 - 1, le=MAX_INT32)]
MAX_PAGE = 1_000_000


class PageNumberPagination(NinjaPageNumberPagination):
    """Ninja's page-number pagination with the page number bounded: a page far past the end is
    an empty page, and one beyond a database offset a 422, never an overflow."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_INT32)


# Text with no column of its own (a reason or note for the event log, a choice) is bounded like the
# event log's note; text stored in a TextField without a limit, by TEXT_MAX_LENGTH.
DEFAULT_MAX_LENGTH = 500
TEXT_MAX_LENGTH = 10_000


def column_max_length(model, field: str) -> int:
    """The longest text `model.field` holds: its max_length, or TEXT_MAX_LENGTH for an unlimited TextField."""
    return model._meta.get_field(field).max_length or TEXT_MAX_LENGTH


def _is_text(annotation) -> bool:
    # `str` or `str | None`; a number accepted as text too (`Decimal | str`) is the service's to parse.
    return annotation is str or set(typing.get_args(annotation)) == {str, type(None)}


class StrictSchema(Schema):
    """Request bodies: an unknown field is a 422 naming it, not silently ignored; text holding a NUL
    byte is refused; every text field has a maximum length, documented, so a long value is a 422
    naming the field instead of being cut or reaching the database.

    `__model__` is the model whose columns bound the text fields of the same name; `__columns__` maps
    a field to `(model, column)` where the names differ. A field given `max_length` keeps its own."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs):
        super().__pydantic_init_subclass__(**kwargs)
        model = cls.__dict__.get("__model__")
        columns = cls.__dict__.get("__columns__", {})
        changed = False
        for name, info in cls.model_fields.items():
            if not _is_text(info.annotation) or any(isinstance(item, MaxLen) for item in info.metadata):
                continue
            if name in columns:
                limit = column_max_length(*columns[name])
            elif model is not None and any(field.name == name for field in model._meta.get_fields()):
                limit = column_max_length(model, name)
            else:
                limit = DEFAULT_MAX_LENGTH
            info.metadata.append(MaxLen(limit))
            changed = True
        if changed:
            cls.model_rebuild(force=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value):
        if has_nul(value):
            raise PydanticCustomError("nul_character", "Text may not contain NUL characters.")
        return value


def strict_form(view):
    """Multipart uploads: a form field or file the operation does not declare is a 422 naming it,
    as StrictSchema makes it for JSON bodies (Ninja would drop it unseen); NUL bytes are refused by
    core.middleware. Put it above @idempotent."""
    declared = {
        name
        for name, parameter in inspect.signature(view).parameters.items()
        if any(isinstance(marker, File | Form) for marker in typing.get_args(parameter.annotation)[1:])
    }

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        errors = {
            name: ValidationError(_("Unknown field “%(field)s”.") % {"field": name}, code="extra_forbidden")
            for name in sorted((set(request.POST) | set(request.FILES)) - declared)
        }
        if errors:
            raise ValidationError(errors)
        return view(request, *args, **kwargs)

    return wrapper


def validation_error_body(exc) -> dict:
    """Django's ValidationError in the same shape Ninja uses for schema errors:
    {"detail": [{"loc": ["body", field], "msg": ..., "type": code}]}."""
    details = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                message = error.message % error.params if error.params else error.message
                details.append({"loc": ["body", field], "msg": str(message), "type": error.code or "invalid"})
    else:
        for error in exc.error_list:
            message = error.message % error.params if error.params else error.message
            details.append({"loc": ["body"], "msg": str(message), "type": error.code or "invalid"})
    return {"detail": details}


def _fingerprint(request) -> str:
    """A digest of what the request asks for: the JSON body with keys sorted (so the same object
    written in another key order is the same request), or the form fields and files' contents."""
    digest = hashlib.sha256()
    if request.content_type == "multipart/form-data":
        # The raw body holds a boundary a client picks anew for each attempt; hash what it carries.
        for name in sorted(request.POST):
            digest.update(json.dumps([name, request.POST.getlist(name)]).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(json.dumps([name, upload.name, upload.size]).encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
        return digest.hexdigest()
    body = request.body
    with contextlib.suppress(ValueError):  # not JSON: the bytes as sent
        body = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    digest.update(body)
    return digest.hexdigest()


def idempotent(view):
    """For create endpoints returning `(201, obj)`. With an `Idempotency-Key` header, a repeat
    of the call returns the object the first call created; a concurrent repeat gets 409; the
    key sent again with another body, or to another endpoint, gets 422 (as Stripe does); the key
    of an object deleted since gets 410."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 100:
            raise HttpError(422, _("The Idempotency-Key header is longer than 100 characters."))
        endpoint = f"{request.method} {request.path}"[:300]
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    user=request.user, key=key, endpoint=endpoint, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotentRequest.objects.get(user=request.user, key=key)
            # A record from before fingerprints were kept has none: only its endpoint can be compared.
            if record.endpoint != endpoint or (record.fingerprint and record.fingerprint != fingerprint):
                raise HttpError(422, _("This Idempotency-Key was used for a different request.")) from None
            if record.status_code is None:
                raise HttpError(409, _("A request with this Idempotency-Key is still in progress.")) from None
            model = record.content_type.model_class()
            obj = model._default_manager.filter(pk=record.object_pk).first()
            if obj is None:
                raise HttpError(
                    410, _("What this Idempotency-Key created has been deleted since; use a new key.")
                ) from None
            return record.status_code, obj
        try:
            status, obj = view(request, *args, **kwargs)
        except BaseException:
            IdempotentRequest.objects.filter(pk=record.pk).delete()
            raise
        IdempotentRequest.objects.filter(pk=record.pk).update(
            status_code=status, content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)
        )
        return status, obj

    return wrapper
