import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.test import override_settings

from fieldservice.assets import services
from fieldservice.assets.choices import EquipmentStatus, FittedPartSource, WarrantyState
from fieldservice.assets.models import BomLine, Equipment, EquipmentDocument
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from tests import factories
from tests.assets.images import png_bytes

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def events_of(obj, action=None):
    events = Event.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
    return events.filter(action=action) if action else events


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# Registering


def test_registering_fits_the_parts_of_the_bill_of_materials(world):
    machine = services.register_equipment(
        actor=world.agent,
        product_model=world.model,
        serial_number=" NEW-1 ",
        customer=world.customer_a,
        installed_on=dt.date(2025, 3, 1),
    )
    fitted = {f.part.part_number: f for f in machine.fitted_parts.select_related("part")}
    assert machine.serial_number == "NEW-1"
    assert {number: f.quantity for number, f in fitted.items()} == {"MOTOR-1": Decimal(1), "BELT-1": Decimal("2.5")}
    assert all(f.source == FittedPartSource.BOM and f.fitted_on == dt.date(2025, 3, 1) for f in fitted.values())
    assert events_of(machine, "created").get().actor == world.agent


def test_warranty_defaults_to_install_date_plus_model_months_clipped_to_month_end(world):
    one_month = factories.product_model(default_warranty_months=1)
    machine = factories.equipment(world.customer_a, product_model=one_month, installed_on=dt.date(2025, 1, 31))
    assert machine.warranty_starts_on == dt.date(2025, 1, 31)
    assert machine.warranty_ends_on == dt.date(2025, 2, 28)


def test_explicit_warranty_dates_are_kept(world):
    machine = factories.equipment(
        world.customer_a,
        product_model=world.model,
        installed_on=dt.date(2025, 1, 31),
        warranty_starts_on=dt.date(2025, 2, 10),
        warranty_ends_on=dt.date(2027, 2, 9),
    )
    assert (machine.warranty_starts_on, machine.warranty_ends_on) == (dt.date(2025, 2, 10), dt.date(2027, 2, 9))


def test_warranty_cannot_end_before_it_starts(world):
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(
            world.customer_a, warranty_starts_on=dt.date(2025, 5, 1), warranty_ends_on=dt.date(2025, 4, 30)
        )
    assert error_fields(excinfo) == {"warranty_ends_on"}


def test_serial_is_unique_per_model_but_may_repeat_on_another_model(world):
    before = Equipment.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(world.customer_z, product_model=world.model, serial_number="A-0001")
    assert error_fields(excinfo) == {"serial_number"}
    assert Equipment.objects.count() == before
    other = factories.equipment(world.customer_z, product_model=factories.product_model(), serial_number="A-0001")
    assert other.serial_number == "A-0001"


def test_site_of_another_customer_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(world.customer_a, site=world.site_z)
    assert error_fields(excinfo) == {"site"}
    assert excinfo.value.error_dict["site"][0].code == "invalid_choice"


def test_module_must_hang_under_a_registered_machine_of_the_same_customer(world):
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(world.customer_a, parent=world.machine_z)
    assert error_fields(excinfo) == {"parent"}
    services.invalidate_equipment(world.machine_a, actor=world.agent, reason="scrapped")
    world.machine_a.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(world.customer_a, parent=world.machine_a)
    assert error_fields(excinfo) == {"parent"}


def test_a_machine_cannot_become_a_module_of_its_own_module(world):
    module = factories.equipment(world.customer_a, parent=world.machine_a)
    with pytest.raises(ValidationError) as excinfo:
        services.update_equipment(world.machine_a, actor=world.agent, parent=module)
    assert error_fields(excinfo) == {"parent"}
    with pytest.raises(ValidationError):
        services.update_equipment(world.machine_a, actor=world.agent, parent=world.machine_a)
    world.machine_a.refresh_from_db()
    assert world.machine_a.parent is None


def test_changing_the_customer_of_a_machine_with_modules_is_refused(world):
    factories.equipment(world.customer_a, parent=world.machine_a)
    with pytest.raises(ValidationError) as excinfo:
        services.update_equipment(world.machine_a, actor=world.agent, customer=world.customer_z)
    assert error_fields(excinfo) == {"customer"}


def test_moving_to_another_customer_drops_the_old_site(world):
    services.update_equipment(world.machine_a, actor=world.agent, customer=world.customer_z)
    world.machine_a.refresh_from_db()
    assert (world.machine_a.customer, world.machine_a.site) == (world.customer_z, None)


def test_status_cannot_be_changed_by_update(world):
    with pytest.raises(ValidationError) as excinfo:
        services.update_equipment(world.machine_a, actor=world.agent, status=EquipmentStatus.INVALIDATED)
    assert error_fields(excinfo) == {"status"}


@pytest.mark.parametrize("who", ["engineer", "dispatcher", "provider_admin", "customer_user_a", "parts_keeper"])
def test_only_own_staff_with_the_capability_register_equipment(world, who):
    before = Equipment.objects.count()
    with pytest.raises(PermissionDenied):
        services.register_equipment(
            actor=getattr(world, who), product_model=world.model, serial_number="X-1", customer=world.customer_a
        )
    assert Equipment.objects.count() == before


# Invalidate / reinstate / token


def test_invalidate_and_reinstate_write_events_and_refuse_repeats(world):
    machine = services.invalidate_equipment(world.machine_a, actor=world.agent, reason="Sold on")
    assert (machine.status, machine.invalidated_reason) == (EquipmentStatus.INVALIDATED, "Sold on")
    event = events_of(machine, "updated").latest("pk")
    assert event.note == "Sold on"
    assert event.changes["status"] == ["Registered", "Invalidated"]
    with pytest.raises(DomainError) as excinfo:
        services.invalidate_equipment(machine, actor=world.agent, reason="again")
    assert excinfo.value.code == "already_invalidated"

    machine = services.reinstate_equipment(machine, actor=world.agent)
    assert (machine.status, machine.invalidated_reason) == (EquipmentStatus.REGISTERED, "")
    assert events_of(machine, "updated").latest("pk").changes["status"] == ["Invalidated", "Registered"]
    with pytest.raises(DomainError) as excinfo:
        services.reinstate_equipment(machine, actor=world.agent)
    assert excinfo.value.code == "already_registered"


def test_invalidating_needs_a_reason(world):
    with pytest.raises(ValidationError) as excinfo:
        services.invalidate_equipment(world.machine_a, actor=world.agent, reason="  ")
    assert error_fields(excinfo) == {"reason"}
    world.machine_a.refresh_from_db()
    assert world.machine_a.status == EquipmentStatus.REGISTERED


def test_renewing_the_token_changes_it_and_records_it(world):
    old = world.machine_a.public_token
    services.renew_public_token(world.machine_a, actor=world.agent)
    world.machine_a.refresh_from_db()
    assert world.machine_a.public_token != old
    assert events_of(world.machine_a, "qr_token_renewed").count() == 1


def test_warranty_state(world):
    machine = world.machine_a
    machine.warranty_starts_on, machine.warranty_ends_on = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    assert machine.warranty_state(dt.date(2024, 12, 31)) == WarrantyState.NOT_STARTED
    assert machine.warranty_state(dt.date(2025, 12, 31)) == WarrantyState.IN_WARRANTY
    assert machine.warranty_state(dt.date(2026, 1, 1)) == WarrantyState.EXPIRED
    machine.warranty_ends_on = None
    assert machine.warranty_state() == WarrantyState.UNKNOWN


# Bill of materials


def test_set_bom_replaces_the_lines_and_records_the_change(world):
    screw = factories.part()
    services.set_bom(world.model, actor=world.admin, lines=[(screw, 4)])
    assert [(line.part, line.quantity) for line in BomLine.objects.filter(product_model=world.model)] == [
        (screw, Decimal(4))
    ]
    assert events_of(world.model, "bom_changed").count() == 2  # the factory's BOM, then this one
    # Machines already built keep their parts.
    assert world.machine_a.fitted_parts.count() == 2


def test_set_bom_refuses_a_part_listed_twice(world):
    with pytest.raises(ValidationError) as excinfo:
        services.set_bom(world.model, actor=world.admin, lines=[(world.motor, 1), (world.motor, 2)])
    assert error_fields(excinfo) == {"lines"}
    assert world.model.bom_lines.count() == 2


@pytest.mark.parametrize("quantity", [0, -1, "abc", "NaN"])
def test_set_bom_refuses_a_quantity_that_is_not_positive(world, quantity):
    with pytest.raises(ValidationError) as excinfo:
        services.set_bom(world.model, actor=world.admin, lines=[(world.motor, 1), (world.belt, quantity)])
    assert error_fields(excinfo) == {"lines[1].quantity"}
    assert excinfo.value.error_dict["lines[1].quantity"][0].code in {"invalid", "out_of_range"}
    assert world.model.bom_lines.get(part=world.belt).quantity == Decimal("2.5")


def test_engineers_may_not_change_a_bom(world):
    with pytest.raises(PermissionDenied):
        services.set_bom(world.model, actor=world.engineer, lines=[])
    assert world.model.bom_lines.count() == 2


# Product models


def test_product_model_code_is_upper_cased_and_unique(world):
    with pytest.raises(ValidationError) as excinfo:
        services.create_product_model(actor=world.admin, code="im-200", name="Copy")
    assert error_fields(excinfo) == {"code"}


def test_product_model_image_must_really_be_an_image(world):
    fake = ContentFile(b"just some text, not a picture", name="x.png")
    with pytest.raises(ValidationError) as excinfo:
        services.update_product_model(world.model, actor=world.admin, image=fake)
    assert error_fields(excinfo) == {"image"}
    world.model.refresh_from_db()
    assert not world.model.image


def test_product_model_image_over_five_megabytes_is_refused(world):
    # The size is checked before the content, so padding a real PNG header is enough.
    too_big = ContentFile(png_bytes() + b"\0" * (5 * 1024 * 1024), name="m.png")
    with pytest.raises(ValidationError) as excinfo:
        services.update_product_model(world.model, actor=world.admin, image=too_big)
    assert excinfo.value.error_dict["image"][0].code == "file_too_big"


def test_product_model_image_is_stored(world):
    services.update_product_model(world.model, actor=world.admin, image=ContentFile(png_bytes(), name="m.png"))
    world.model.refresh_from_db()
    assert world.model.image.name.endswith(".png")


# Documents


def test_a_pdf_document_is_kept_with_its_real_type(world):
    document = services.add_equipment_document(
        world.machine_a, actor=world.agent, title="", file=ContentFile(PDF, name="Manual v2.bin")
    )
    assert (document.title, document.content_type, document.size) == ("Manual v2", "application/pdf", len(PDF))
    assert document.file.name.endswith(".pdf")
    assert events_of(world.machine_a, "document_added").get().note == "Manual v2"


def test_an_image_document_is_accepted(world):
    document = services.add_equipment_document(
        world.machine_a, actor=world.agent, title="Nameplate", file=ContentFile(png_bytes(), name="plate.pdf")
    )
    assert document.content_type == "image/png"
    assert document.file.name.endswith(".png")


@pytest.mark.parametrize(
    "content, name",
    [(b"MZ\x90\x00 not a document", "manual.pdf"), (b"<html><script>alert(1)</script></html>", "x.png")],
)
def test_documents_other_than_pdf_or_image_are_refused(world, content, name):
    with pytest.raises(ValidationError) as excinfo:
        services.add_equipment_document(
            world.machine_a, actor=world.agent, title="t", file=ContentFile(content, name=name)
        )
    assert error_fields(excinfo) == {"file"}
    assert not EquipmentDocument.objects.exists()


@override_settings(FSM_MAX_UPLOAD_BYTES=1024)
def test_documents_over_the_upload_limit_are_refused(world):
    big = ContentFile(PDF + b"0" * 2048, name="big.pdf")
    with pytest.raises(ValidationError) as excinfo:
        services.add_equipment_document(world.machine_a, actor=world.agent, title="big", file=big)
    assert excinfo.value.error_dict["file"][0].code == "file_too_big"
    assert not EquipmentDocument.objects.exists()


def test_a_document_needs_a_file(world):
    with pytest.raises(ValidationError) as excinfo:
        services.add_equipment_document(world.machine_a, actor=world.agent, title="t", file=None)
    assert error_fields(excinfo) == {"file"}


def test_provider_users_may_not_add_documents(world):
    with pytest.raises(PermissionDenied):
        services.add_equipment_document(
            world.machine_a, actor=world.provider_admin, title="t", file=ContentFile(PDF, name="m.pdf")
        )
    assert not EquipmentDocument.objects.exists()


def test_a_lot_number_over_64_characters_names_the_field(personas):
    with pytest.raises(ValidationError) as excinfo:
        factories.equipment(personas.customer_a, lot_number="L" * 65)
    assert set(excinfo.value.error_dict) == {"lot_number"}
