"""Checks for uploaded files: size and real content type, not the file name."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
DOCUMENT_SIGNATURES = {b"%PDF-": "pdf"}


def check_size(upload, field: str, max_bytes: int | None = None) -> None:
    limit = max_bytes or settings.FSM_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                field: _("The file is too big (%(size)s); the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            },
            code="file_too_big",
        )


def check_image(upload, field: str, max_bytes: int | None = None) -> None:
    check_size(upload, field, max_bytes)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({field: _("The file is not an image.")}, code="not_an_image") from None
    finally:
        upload.seek(0)
    if kind not in IMAGE_FORMATS:
        raise ValidationError({field: _("Images must be JPEG, PNG, GIF or WebP.")}, code="unsupported_image")


def check_document(upload, field: str, max_bytes: int | None = None) -> None:
    """A document is a PDF or an image."""
    check_size(upload, field, max_bytes)
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if any(head.startswith(signature) for signature in DOCUMENT_SIGNATURES):
        return
    try:
        check_image(upload, field, max_bytes)
    except ValidationError:
        raise ValidationError(
            {field: _("Documents must be PDF files or images.")}, code="unsupported_document"
        ) from None
