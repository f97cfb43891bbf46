"""Checks for uploaded files: size and real content type, not the file name."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from fieldservice.core.errors import field_error

IMAGE_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
DOCUMENT_SIGNATURES = (b"%PDF-",)


def check_size(upload, field: str, max_bytes: int | None = None) -> None:
    limit = max_bytes or settings.FSM_MAX_UPLOAD_BYTES
    if upload.size > limit:
        message = _("The file is too big (%(size)s); the limit is %(limit)s.") % {
            "size": filesizeformat(upload.size),
            "limit": filesizeformat(limit),
        }
        raise field_error(field, message, "file_too_big")


def check_image(upload, field: str, max_bytes: int | None = None) -> None:
    check_size(upload, field, max_bytes)
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise field_error(field, _("The file is not an image."), "not_an_image") from None
    finally:
        upload.seek(0)
    if kind not in IMAGE_FORMATS:
        raise field_error(field, _("Images must be JPEG, PNG, GIF or WebP."), "unsupported_image")


def check_document(upload, field: str, max_bytes: int | None = None) -> None:
    """A document is a PDF or an image."""
    check_size(upload, field, max_bytes)
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(DOCUMENT_SIGNATURES):
        return
    try:
        check_image(upload, field, max_bytes)
    except ValidationError:
        raise field_error(field, _("Documents must be PDF files or images."), "unsupported_document") from None


class CappedRequestUpload(FileUploadHandler):
    """First of the upload handlers: refuses a multipart body larger than FSM_MAX_REQUEST_BYTES
    before any of it is read (by its Content-Length), and counts what actually streams in, so a
    huge upload is never read whole, to memory or disk, before the size checks above."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803 - Django names it
        self.received = 0
        self.limit = settings.FSM_MAX_REQUEST_BYTES
        if content_length > self.limit:
            raise RequestDataTooBig(f"Request body of {content_length} bytes exceeds FSM_MAX_REQUEST_BYTES")

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestDataTooBig("Uploaded files exceed FSM_MAX_REQUEST_BYTES")
        return raw_data

    def file_complete(self, file_size):
        return None
