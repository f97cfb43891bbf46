"""The field services: each step of a visit, who may do it, in which state, and what it refuses."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fieldservice.assets.choices import FittedPartSource
from fieldservice.core.errors import DomainError
from fieldservice.core.geo import great_circle_km
from fieldservice.core.models import Event
from fieldservice.field import services
from fieldservice.field.models import PartUsage, Signature
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from tests.field.conftest import accept, on_site, png_file, ready_to_complete, record, with_helper

S = WorkOrderStatus


def log_count(order) -> int:
    return WorkOrderEvent.objects.filter(work_order=order).count()


def status_of(order) -> str:
    return WorkOrder.objects.get(pk=order.pk).status


def codes(error: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in error.error_dict.items()}


# Travel and check-in ---------------------------------------------------------------------------


def test_start_travel_moves_the_accepted_order_and_logs_the_position(visit):
    accept(visit)
    services.start_travel(visit.order, actor=visit.engineer, latitude="29.9", longitude="121.6")
    assert status_of(visit.order) == S.TRAVELLING
    event = WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk")
    assert (event.action, event.actor, event.latitude, event.longitude) == (
        "start_travel",
        visit.engineer,
        Decimal("29.9"),
        Decimal("121.6"),
    )


def test_check_in_stores_location_accuracy_and_distance_to_the_site(visit):
    accept(visit)
    services.check_in(visit.order, actor=visit.engineer, latitude=29.87, longitude=121.55, accuracy="15.26")
    order = WorkOrder.objects.get(pk=visit.order.pk)
    assert order.status == S.ON_SITE and order.checked_in_at is not None
    event = WorkOrderEvent.objects.filter(work_order=order, action="check_in").get()
    expected = great_circle_km(29.87, 121.55, visit.site_cn.latitude, visit.site_cn.longitude)
    assert event.payload["distance_km"] == pytest.approx(expected, abs=0.001)
    assert 0.5 < event.payload["distance_km"] < 0.7
    assert event.payload["accuracy"] == 15.3
    assert (event.latitude, event.longitude) == (Decimal("29.870000"), Decimal("121.550000"))


def test_check_in_without_a_location_still_counts_and_says_so(visit):
    accept(visit)
    services.check_in(visit.order, actor=visit.engineer, latitude=None, longitude=None, location_error="denied")
    event = WorkOrderEvent.objects.filter(work_order=visit.order, action="check_in").get()
    assert status_of(visit.order) == S.ON_SITE
    assert (event.latitude, event.longitude) == (None, None)
    assert event.payload == {
        "distance_km": None,
        "accuracy": None,
        "location_missing": True,
        "location_error": "denied",
    }


def test_check_in_without_site_coordinates_has_no_distance(visit):
    from fieldservice.customers.models import Site

    Site.objects.filter(pk=visit.site_cn.pk).update(latitude=None, longitude=None)
    accept(visit)
    visit.order.refresh_from_db()
    services.check_in(visit.order, actor=visit.engineer, latitude=29.87, longitude=121.55)
    event = WorkOrderEvent.objects.filter(work_order=visit.order, action="check_in").get()
    assert event.payload["distance_km"] is None and event.latitude == Decimal("29.87")


@pytest.mark.parametrize(
    ("latitude", "longitude", "field", "code"),
    [
        ("91", "121", "latitude", "out_of_range"),
        ("29", "-181", "longitude", "out_of_range"),
        ("north", "121", "latitude", "invalid"),
        ("29", None, "longitude", "required"),
        (None, "121", "latitude", "required"),
    ],
)
def test_check_in_refuses_bad_coordinates_and_changes_nothing(visit, latitude, longitude, field, code):
    accept(visit)
    before = log_count(visit.order)
    with pytest.raises(ValidationError) as excinfo:
        services.check_in(visit.order, actor=visit.engineer, latitude=latitude, longitude=longitude)
    assert codes(excinfo.value) == {field: code}
    assert status_of(visit.order) == S.ACCEPTED and log_count(visit.order) == before


def test_check_in_before_accepting_is_an_illegal_transition_and_changes_nothing(visit):
    before = log_count(visit.order)
    with pytest.raises(DomainError) as excinfo:
        services.check_in(visit.order, actor=visit.engineer, latitude=29.87, longitude=121.55)
    assert excinfo.value.code == "illegal_transition"
    assert status_of(visit.order) == S.DISPATCHED and log_count(visit.order) == before


def test_check_in_twice_is_an_illegal_transition(visit):
    on_site(visit)
    with pytest.raises(DomainError) as excinfo:
        services.check_in(visit.order, actor=visit.engineer, latitude=None, longitude=None)
    assert excinfo.value.code == "illegal_transition"


def test_a_helper_who_accepted_may_check_in_one_who_did_not_may_not(visit):
    from fieldservice.dispatch.assignments.services import add_helper

    accept(visit)
    offered = add_helper(visit.order, actor=visit.dispatcher, engineer=visit.other_engineer)
    with pytest.raises(DomainError):
        services.check_in(visit.order, actor=visit.other_engineer, latitude=None, longitude=None)
    assert offered.status == "offered" and status_of(visit.order) == S.ACCEPTED
    with_helper(visit)
    services.check_in(visit.order, actor=visit.helper, latitude=None, longitude=None)
    assert status_of(visit.order) == S.ON_SITE


# Everyone but the order's engineers is refused, whatever the step --------------------------------


STEPS = {
    "start_travel": lambda p, who: services.start_travel(p.order, actor=who),
    "check_in": lambda p, who: services.check_in(p.order, actor=who, latitude=None, longitude=None),
    "record_work": lambda p, who: services.record_work(
        p.order, actor=who, resolution_type="repair", fault_cause="x", actions_taken="y", labour_hours=1
    ),
    "use_part": lambda p, who: services.use_part(p.order, actor=who, part=p.seal, quantity=1),
    "add_photo": lambda p, who: services.add_photo(p.order, actor=who, file=png_file()),
    "capture_signature": lambda p, who: services.capture_signature(
        p.order, actor=who, image_file=png_file(), signer_name="王经理"
    ),
    "complete_visit": lambda p, who: services.complete_visit(p.order, actor=who),
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("who", ["other_engineer", "dispatcher", "admin", "customer_user_a", "provider_engineer"])
def test_only_the_orders_engineers_may_act(visit, step, who):
    if step in ("start_travel", "check_in"):
        accept(visit)
    else:
        on_site(visit)
    status, before = status_of(visit.order), log_count(visit.order)
    with pytest.raises(PermissionDenied):
        STEPS[step](visit, getattr(visit, who))
    assert status_of(visit.order) == status and log_count(visit.order) == before
    assert not PartUsage.objects.exists() and not Attachment.objects.filter(work_order=visit.order).exists()


@pytest.mark.parametrize("step", ["record_work", "use_part", "add_photo", "capture_signature", "complete_visit"])
def test_on_site_steps_are_refused_before_check_in(visit, step):
    accept(visit)
    before = log_count(visit.order)
    with pytest.raises(DomainError) as excinfo:
        STEPS[step](visit, visit.engineer)
    assert excinfo.value.code == "not_on_site"
    assert status_of(visit.order) == S.ACCEPTED and log_count(visit.order) == before


# Recording the work ------------------------------------------------------------------------------------


def test_record_work_updates_the_order_and_logs_it(visit):
    on_site(visit)
    order = record(visit, labour_hours="2.255")
    assert (order.resolution_type, order.fault_cause, order.actions_taken, order.labour_hours) == (
        "replace_part",
        "冷却器堵塞",
        "清洗冷却器，更换伺服电机",
        Decimal("2.26"),
    )
    assert order.status == S.ON_SITE
    event = WorkOrderEvent.objects.filter(work_order=order).latest("pk")
    assert event.action == "work_recorded" and event.payload == {
        "resolution_type": "replace_part",
        "labour_hours": "2.26",
    }


def test_record_work_names_every_bad_field_and_changes_nothing(visit):
    on_site(visit)
    before = log_count(visit.order)
    with pytest.raises(ValidationError) as excinfo:
        services.record_work(
            visit.order,
            actor=visit.engineer,
            resolution_type="magic",
            fault_cause=" ",
            actions_taken="",
            labour_hours="",
        )
    assert codes(excinfo.value) == {
        "resolution_type": "invalid_choice",
        "fault_cause": "required",
        "actions_taken": "required",
        "labour_hours": "required",
    }
    order = WorkOrder.objects.get(pk=visit.order.pk)
    assert order.resolution_type == "" and order.labour_hours is None and log_count(order) == before


@pytest.mark.parametrize(
    ("hours", "code"), [("0", "out_of_range"), ("-1", "out_of_range"), ("1001", "out_of_range"), ("two", "invalid")]
)
def test_record_work_refuses_bad_labour_hours(visit, hours, code):
    on_site(visit)
    with pytest.raises(ValidationError) as excinfo:
        record(visit, labour_hours=hours)
    assert codes(excinfo.value) == {"labour_hours": code}


# Parts ---------------------------------------------------------------------------------------------------


def test_use_part_replacing_a_fitted_part(visit):
    on_site(visit)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    motor.part_serial_number = "M-OLD-9"
    motor.save()
    usage = services.use_part(
        visit.order, actor=visit.engineer, part=None, quantity="1", replaces=motor, new_serial=" M-NEW-1 "
    )
    assert (usage.part, usage.quantity, usage.replaces, usage.is_replacement, usage.replaced_serial) == (
        visit.motor,
        Decimal("1"),
        motor,
        True,
        "M-OLD-9",
    )
    assert (usage.new_serial, usage.recorded_by, usage.replaced_part_number) == ("M-NEW-1", visit.engineer, "MOTOR-1")
    event = WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk")
    assert event.action == "part_used" and event.payload["replaces"] == motor.pk
    # The machine changes on completion, not before.
    assert visit.machine.fitted_parts.get(pk=motor.pk).quantity == 1


@pytest.mark.parametrize("quantity", [0, "-1", "0.000", "lots", "1.0001"])
def test_use_part_refuses_a_bad_quantity(visit, quantity):
    on_site(visit)
    before = log_count(visit.order)
    with pytest.raises(ValidationError) as excinfo:
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=quantity)
    assert list(excinfo.value.error_dict) == ["quantity"]
    assert not PartUsage.objects.exists() and log_count(visit.order) == before


def test_use_part_refuses_a_fitted_part_of_another_machine(visit):
    on_site(visit)
    foreign = visit.other_machine.fitted_parts.get(part=visit.motor)
    with pytest.raises(ValidationError) as excinfo:
        services.use_part(visit.order, actor=visit.engineer, part=visit.motor, quantity=1, replaces=foreign)
    assert codes(excinfo.value) == {"replaces": "invalid_choice"}
    assert not PartUsage.objects.exists()


def test_use_part_refuses_replacing_more_than_is_fitted(visit):
    on_site(visit)
    belt = visit.machine.fitted_parts.get(part=visit.belt)  # 2.5 m fitted
    services.use_part(visit.order, actor=visit.engineer, part=visit.belt, quantity=2, replaces=belt)
    with pytest.raises(ValidationError) as excinfo:
        services.use_part(visit.order, actor=visit.engineer, part=visit.belt, quantity=1, replaces=belt)
    assert codes(excinfo.value) == {"quantity": "too_many"}
    assert PartUsage.objects.count() == 1


def test_use_part_needs_a_part_and_an_active_one(visit):
    from fieldservice.inventory.models import Part

    on_site(visit)
    with pytest.raises(ValidationError) as excinfo:
        services.use_part(visit.order, actor=visit.engineer, part=None, quantity=1)
    assert codes(excinfo.value) == {"part": "required"}
    Part.objects.filter(pk=visit.seal.pk).update(is_active=False)
    visit.seal.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1)
    assert codes(excinfo.value) == {"part": "inactive"}
    assert not PartUsage.objects.exists()


def test_a_part_entry_can_be_removed_on_site_only(visit):
    on_site(visit)
    usage = services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1)
    with pytest.raises(PermissionDenied):
        services.remove_part_usage(usage, actor=visit.other_engineer)
    services.remove_part_usage(usage, actor=visit.engineer)
    assert not PartUsage.objects.exists()
    assert WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk").action == "part_removed"
    with pytest.raises(DomainError):
        services.remove_part_usage(usage, actor=visit.engineer)


# Photos and the signature ----------------------------------------------------------------------------------


def test_add_photo_stores_a_photo_attachment(visit):
    on_site(visit)
    attachment = services.add_photo(visit.order, actor=visit.engineer, file=png_file("machine.png"))
    assert (attachment.work_order, attachment.kind, attachment.uploaded_by) == (visit.order, "photo", visit.engineer)
    assert WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk").action == "photo_added"


def test_add_photo_refuses_what_is_not_an_image(visit):
    on_site(visit)
    with pytest.raises(ValidationError) as excinfo:
        services.add_photo(visit.order, actor=visit.engineer, file=SimpleUploadedFile("x.jpg", b"not an image"))
    assert codes(excinfo.value) == {"file": "not_an_image"}
    assert not Attachment.objects.filter(work_order=visit.order).exists()


def test_capture_signature(visit):
    on_site(visit)
    signature = services.capture_signature(
        visit.order, actor=visit.engineer, image_file=png_file("whatever.bin"), signer_name=" 王经理 "
    )
    assert (signature.signer_name, signature.captured_by, signature.work_order) == (
        "王经理",
        visit.engineer,
        visit.order,
    )
    attachment = signature.attachment
    assert (attachment.kind, attachment.content_type) == ("signature", "image/png")
    assert attachment.file.name.endswith(".png")
    event = WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk")
    assert (event.action, event.note) == ("signature_captured", "王经理")


def big_png() -> SimpleUploadedFile:
    import os
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(buffer, format="PNG")
    assert buffer.tell() > services.SIGNATURE_LIMIT
    return SimpleUploadedFile("big.png", buffer.getvalue())


@pytest.mark.parametrize(
    ("make_file", "signer", "expected"),
    [
        (lambda: SimpleUploadedFile("s.png", b"%PDF-1.4 not an image"), "王经理", {"image": "not_an_image"}),
        (lambda: png_file("s.gif", fmt="GIF"), "王经理", {"image": "unsupported_image"}),
        (big_png, "王经理", {"image": "file_too_big"}),
        (lambda: png_file(ink=False), "王经理", {"image": "empty"}),
        (lambda: png_file(), "  ", {"signer_name": "required"}),
        (lambda: None, "", {"image": "required", "signer_name": "required"}),
    ],
    ids=["not-an-image", "gif", "too-big", "blank", "no-name", "nothing"],
)
def test_capture_signature_refusals(visit, make_file, signer, expected):
    on_site(visit)
    before = log_count(visit.order)
    with pytest.raises(ValidationError) as excinfo:
        services.capture_signature(visit.order, actor=visit.engineer, image_file=make_file(), signer_name=signer)
    assert codes(excinfo.value) == expected
    assert not Signature.objects.exists() and not Attachment.objects.filter(work_order=visit.order).exists()
    assert log_count(visit.order) == before


def test_a_jpeg_signature_is_accepted(visit):
    on_site(visit)
    signature = services.capture_signature(
        visit.order, actor=visit.engineer, image_file=png_file("s.jpg", fmt="JPEG"), signer_name="Li"
    )
    assert signature.attachment.content_type == "image/jpeg"


# Completing the visit --------------------------------------------------------------------------------------


def test_complete_needs_the_work_recorded(visit):
    on_site(visit)
    with pytest.raises(DomainError) as excinfo:
        services.complete_visit(visit.order, actor=visit.engineer)
    assert excinfo.value.code == "work_not_recorded" and status_of(visit.order) == S.ON_SITE


def test_complete_without_a_signature_is_refused_and_changes_nothing(visit):
    on_site(visit)
    record(visit)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    services.use_part(visit.order, actor=visit.engineer, part=visit.motor, quantity=1, replaces=motor)
    before = log_count(visit.order)
    with pytest.raises(DomainError) as excinfo:
        services.complete_visit(visit.order, actor=visit.engineer)
    assert excinfo.value.code == "signature_required"
    assert status_of(visit.order) == S.ON_SITE and log_count(visit.order) == before
    assert visit.machine.fitted_parts.filter(pk=motor.pk).exists()
    assert not Event.objects.filter(action="parts_replaced").exists()


def test_a_remote_fix_needs_no_signature(visit, django_capture_on_commit_callbacks):
    on_site(visit)
    record(visit, resolution_type="remote_fix")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.complete_visit(visit.order, actor=visit.engineer)
    assert order.status == S.COMPLETED
    assert not Event.objects.filter(action="parts_replaced").exists()  # no parts used


def test_complete_updates_the_fitted_parts_and_the_machine_history(visit, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    belt = visit.machine.fitted_parts.get(part=visit.belt)
    services.use_part(visit.order, actor=visit.engineer, part=visit.belt, quantity=1, replaces=belt)
    old_motor = visit.machine.fitted_parts.get(part=visit.motor)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.complete_visit(visit.order, actor=visit.engineer)
    assert order.status == S.COMPLETED and order.completed_at and order.checked_out_at
    fitted = {
        (f.part.part_number, f.quantity, f.part_serial_number, f.source, f.fitted_on)
        for f in visit.machine.fitted_parts.select_related("part")
    }
    today = timezone.localdate()
    installed = old_motor.fitted_on
    assert fitted == {
        ("MOTOR-1", Decimal("1.000"), "M-NEW-1", FittedPartSource.REPLACEMENT, today),
        ("BELT-1", Decimal("1.500"), "", FittedPartSource.BOM, installed),
        ("BELT-1", Decimal("1.000"), "", FittedPartSource.REPLACEMENT, today),
        ("SEAL-9", Decimal("2.000"), "", FittedPartSource.ADDED, today),
    }
    # The other machine of the same model is untouched.
    assert visit.other_machine.fitted_parts.count() == 2
    event = Event.objects.get(action="parts_replaced")
    assert event.object_pk == str(visit.machine.pk) and event.related_object_pk == str(visit.customer_cn.pk)
    assert event.actor == visit.engineer
    for text in (order.number, "MOTOR-1", "M-NEW-1", "BELT-1", "SEAL-9"):
        assert text in event.note


def test_the_report_is_mailed_to_the_contact_after_commit(visit, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_visit(visit.order, actor=visit.engineer)
        assert mail.outbox == []  # nothing leaves before the completion is committed
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["wang@example.com"]
    assert visit.order.number in message.subject
    ((name, content, mimetype),) = message.attachments
    assert name == f"service-report-{visit.order.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    assert WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk").payload == {"to": "wang@example.com"}


def test_the_report_goes_out_once_however_often_the_task_runs(visit, django_capture_on_commit_callbacks):
    from fieldservice.field.tasks import send_report

    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_visit(visit.order, actor=visit.engineer)
    send_report.call(visit.order.pk, "en")
    assert len(mail.outbox) == 1


def test_no_mail_without_an_address(visit, django_capture_on_commit_callbacks):
    from fieldservice.customers.models import Contact

    Contact.objects.filter(pk=visit.contact_cn.pk).update(email="")
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_visit(visit.order, actor=visit.engineer)
    assert mail.outbox == []
    assert status_of(visit.order) == S.COMPLETED


def test_a_mail_failure_does_not_undo_the_visit(visit, django_capture_on_commit_callbacks, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_visit(visit.order, actor=visit.engineer)
    assert status_of(visit.order) == S.COMPLETED
    assert not WorkOrderEvent.objects.filter(work_order=visit.order, action="report_sent").exists()


def test_steps_after_completion_are_refused(visit, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=True):
        services.complete_visit(visit.order, actor=visit.engineer)
    for step in ("record_work", "use_part", "add_photo", "capture_signature", "complete_visit"):
        with pytest.raises(DomainError):
            STEPS[step](visit, visit.engineer)
    assert status_of(visit.order) == S.COMPLETED
