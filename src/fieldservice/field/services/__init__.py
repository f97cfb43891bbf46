"""The field services by topic: `visit` (travel, check in, work, parts, photos, signature,
completion, the report's e-mail) and `steps` (job templates, the steps an order carries, their
answers). Callers write `services.complete_visit` whichever module holds it."""

from fieldservice.field.services.visit import (
    MAX_PHOTOS_PER_ORDER,
    SIGNATURE_FORMATS,
    SIGNATURE_LIMIT,
    TEXT_LIMIT,
    add_photo,
    capture_signature,
    check_in,
    complete_visit,
    record_work,
    remove_part_usage,
    send_service_report,
    start_travel,
    use_part,
)

__all__ = [
    "MAX_PHOTOS_PER_ORDER",
    "SIGNATURE_FORMATS",
    "SIGNATURE_LIMIT",
    "TEXT_LIMIT",
    "add_photo",
    "capture_signature",
    "check_in",
    "complete_visit",
    "record_work",
    "remove_part_usage",
    "send_service_report",
    "start_travel",
    "use_part",
]
