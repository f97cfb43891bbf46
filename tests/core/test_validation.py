from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fieldservice.core.uploads import check_document, check_image
from fieldservice.core.validation import check_coordinates, normalise_email, normalise_phone


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.error_dict)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("0574-87654321", "+8657487654321"),
        ("+49 30 901820", "+4930901820"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "abc", "1381234567890123", "+86 000"])
def test_bad_phone_numbers_name_the_field(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_phone(raw, field="contact_phone")
    assert error_fields(excinfo) == {"contact_phone"}


def test_email_is_lowercased_and_checked():
    assert normalise_email(" Li.Wei@Example.COM ") == "li.wei@example.com"
    assert normalise_email("") == ""
    with pytest.raises(ValidationError) as excinfo:
        normalise_email("li.wei@", field="email")
    assert error_fields(excinfo) == {"email"}


def test_coordinates_are_rounded_to_six_places():
    assert check_coordinates("29.8683361", 121.5439904) == (Decimal("29.868336"), Decimal("121.543990"))
    assert check_coordinates(None, "") == (None, None)


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (91, 120, "latitude"),
        (-90.5, 120, "latitude"),
        (30, 180.01, "longitude"),
        (30, None, "longitude"),
        (None, 120, "latitude"),
        ("north", 120, "latitude"),
        ("nan", 120, "latitude"),
    ],
)
def test_bad_coordinates_name_the_field(latitude, longitude, field):
    with pytest.raises(ValidationError) as excinfo:
        check_coordinates(latitude, longitude)
    assert error_fields(excinfo) == {field}


def png_bytes(size=(4, 4)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_real_image_passes():
    check_image(SimpleUploadedFile("photo.png", png_bytes()), "photo")


def test_a_text_file_named_png_is_not_an_image():
    with pytest.raises(ValidationError) as excinfo:
        check_image(SimpleUploadedFile("photo.png", b"not an image at all"), "photo")
    assert excinfo.value.error_dict["photo"][0].code == "not_an_image"


def test_an_image_over_the_limit_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        check_image(SimpleUploadedFile("photo.png", png_bytes((300, 300))), "photo", max_bytes=100)
    assert excinfo.value.error_dict["photo"][0].code == "file_too_big"


def test_documents_are_pdfs_or_images():
    check_document(SimpleUploadedFile("manual.pdf", b"%PDF-1.7\n..."), "file")
    check_document(SimpleUploadedFile("photo.png", png_bytes()), "file")
    with pytest.raises(ValidationError) as excinfo:
        check_document(SimpleUploadedFile("virus.exe", b"MZ\x90\x00"), "file")
    assert excinfo.value.error_dict["file"][0].code == "unsupported_document"
