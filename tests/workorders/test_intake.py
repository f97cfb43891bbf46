"""The intake services: filing requests from the desk, providers and customers; confirming,
assigning, resolving and discarding them; and making work orders from them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.assets.services import invalidate_equipment
from fieldservice.core.errors import DomainError
from fieldservice.workorders.choices import Channel, RequestStatus, ServiceType, WorkOrderStatus
from fieldservice.workorders.models import Attachment, ServiceRequest, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services import intake
from tests import factories
from tests.workorders.conftest import not_an_image, photo


def codes(error: ValidationError) -> dict[str, list[str]]:
    return {field: [item.code for item in items] for field, items in error.error_dict.items()}


def nothing_written(before_requests: int, before_attachments: int = 0) -> bool:
    return ServiceRequest.objects.count() == before_requests and Attachment.objects.count() == before_attachments


def unknown_caller(world, **fields):
    """A QR report from a phone that is none of the customer's contacts: waits for an agent."""
    return intake.report_fault_by_qr(
        world.machine_a, phone="13700137000", name="Night shift", description="Leaking oil", **fields
    )


# Filing


def test_agent_files_a_phone_request_with_photos(world):
    request = intake.file_request(
        actor=world.agent,
        channel=Channel.PHONE,
        customer=world.customer_a,
        contact=world.contact_a,
        equipment=world.machine_a,
        description="  Screen is black  ",
        photos=[photo(), photo("second.jpg")],
    )
    assert request.status == RequestStatus.OPEN
    assert request.number == f"SR{request.pk:07d}"
    assert request.description == "Screen is black"
    assert request.reporter_phone == world.contact_a.phone
    assert request.confirmed_by == world.agent
    assert [a.content_type for a in request.attachments.all()] == ["image/png", "image/png"]


def test_invalidated_equipment_is_refused_on_the_equipment_field(world):
    invalidate_equipment(world.machine_a, actor=world.agent, reason="Scrapped")
    world.machine_a.refresh_from_db()
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.agent, channel="phone", customer=world.customer_a, equipment=world.machine_a, description="x"
        )
    assert codes(excinfo.value) == {"equipment": ["not_registered"]}
    assert nothing_written(before)


def test_equipment_of_another_customer_is_refused(world):
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.agent, channel="phone", customer=world.customer_a, equipment=world.machine_z, description="x"
        )
    assert codes(excinfo.value) == {"equipment": ["invalid_choice"]}
    assert nothing_written(before)


def test_contact_of_another_customer_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.agent, channel="phone", customer=world.customer_a, contact=world.contact_z, description="x"
        )
    assert codes(excinfo.value) == {"contact": ["invalid_choice"]}


def test_customer_user_files_only_for_their_own_company(world):
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.customer_user_a,
            channel=Channel.PORTAL,
            customer=world.customer_z,
            equipment=world.machine_z,
            description="Not mine",
        )
    assert codes(excinfo.value) == {"customer": ["invalid_choice"]}
    assert nothing_written(before)
    own = intake.file_request(
        actor=world.customer_user_a, channel=Channel.PORTAL, customer=world.customer_a, description="Mine"
    )
    assert own.customer == world.customer_a and own.status == RequestStatus.OPEN


def test_provider_files_only_for_customers_it_serves(world):
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.provider_admin, channel=Channel.PROVIDER, customer=world.customer_z, description="x"
        )
    assert codes(excinfo.value) == {"customer": ["invalid_choice"]}
    assert nothing_written(before)
    served = intake.file_request(
        actor=world.provider_admin, channel=Channel.PROVIDER, customer=world.customer_a, description="x"
    )
    assert served.created_by == world.provider_admin


def test_engineers_may_not_file_requests(world):
    with pytest.raises(PermissionDenied):
        intake.file_request(actor=world.engineer, channel="phone", customer=world.customer_a, description="x")


@pytest.mark.parametrize(
    ("photos", "code"),
    [
        (lambda: [photo(), not_an_image()], "not_an_image"),
        (lambda: [photo(f"p{i}.png") for i in range(7)], "too_many"),
    ],
    ids=["not-an-image", "seven-photos"],
)
def test_bad_photos_are_refused_and_nothing_is_written(world, photos, code):
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(
            actor=world.agent, channel="phone", customer=world.customer_a, description="x", photos=photos()
        )
    assert codes(excinfo.value) == {"photos": [code]}
    assert nothing_written(before)


def test_six_photos_are_fine(world):
    request = intake.file_request(
        actor=world.agent,
        channel="phone",
        customer=world.customer_a,
        description="x",
        photos=[photo(f"p{i}.png") for i in range(6)],
    )
    assert request.attachments.count() == 6


def test_stored_files_get_the_type_and_name_of_their_content_not_of_the_upload(world):
    request = intake.file_request(
        actor=world.agent, channel="phone", customer=world.customer_a, description="x", photos=[photo("evil.html")]
    )
    attachment = request.attachments.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.endswith(".png")
    assert "evil" not in attachment.file.name


def test_unknown_channel_and_empty_description_are_field_errors(world):
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(actor=world.agent, channel="fax", customer=world.customer_a, description="x")
    assert codes(excinfo.value) == {"channel": ["invalid_choice"]}
    with pytest.raises(ValidationError) as excinfo:
        intake.file_request(actor=world.agent, channel="phone", customer=world.customer_a, description="   ")
    assert codes(excinfo.value) == {"description": ["required"]}


# Consultations


def test_a_consultation_answered_on_the_phone_is_filed_and_resolved_without_an_order(world):
    request = intake.file_consultation(
        actor=world.agent,
        resolution="Explained how to reset the alarm",
        channel="phone",
        customer=world.customer_a,
        service_type=ServiceType.CONSULTATION,
        description="How do I reset the alarm?",
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.RESOLVED
    assert request.resolution_note == "Explained how to reset the alarm"
    assert not WorkOrder.objects.filter(request=request).exists()
    with pytest.raises(DomainError):
        intake.create_work_order(request, actor=world.agent)


def test_a_consultation_without_a_resolution_writes_nothing(world):
    before = ServiceRequest.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        intake.file_consultation(
            actor=world.agent, resolution="  ", channel="phone", customer=world.customer_a, description="Question"
        )
    assert codes(excinfo.value) == {"resolution": ["required"]}
    assert nothing_written(before)


def test_a_consultation_by_someone_who_may_not_resolve_writes_nothing(world):
    # Providers may file but not resolve: the filed request must not survive the refusal.
    before = ServiceRequest.objects.count()
    with pytest.raises(PermissionDenied):
        intake.file_consultation(
            actor=world.provider_admin,
            resolution="Told them",
            channel=Channel.PROVIDER,
            customer=world.customer_a,
            description="Question",
        )
    assert nothing_written(before)


def test_resolve_and_discard_need_a_text_and_cannot_be_repeated(world, service_request):
    request = service_request()
    with pytest.raises(ValidationError):
        intake.resolve_without_visit(request, actor=world.agent, resolution="")
    with pytest.raises(ValidationError):
        intake.discard_request(request, actor=world.agent, reason=" ")
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    intake.discard_request(request, actor=world.agent, reason="Duplicate of SR1")
    request.refresh_from_db()
    assert request.status == RequestStatus.DISCARDED and request.resolution_note == "Duplicate of SR1"
    for verb in (
        lambda: intake.discard_request(request, actor=world.agent, reason="again"),
        lambda: intake.resolve_without_visit(request, actor=world.agent, resolution="fixed"),
        lambda: intake.create_work_order(request, actor=world.agent),
    ):
        with pytest.raises(DomainError) as excinfo:
            verb()
        assert excinfo.value.code == "illegal_transition"
    request.refresh_from_db()
    assert request.status == RequestStatus.DISCARDED and request.resolution_note == "Duplicate of SR1"


# Confirming and assigning


def test_confirming_an_unconfirmed_report_with_an_existing_contact(world):
    request = unknown_caller(world)
    assert request.status == RequestStatus.UNCONFIRMED and request.contact is None
    intake.confirm_request(request, actor=world.agent, contact=world.contact_a)
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    assert request.contact == world.contact_a and request.confirmed_by == world.agent
    with pytest.raises(DomainError) as excinfo:
        intake.confirm_request(request, actor=world.agent, contact=world.contact_a)
    assert excinfo.value.code == "illegal_transition"


def test_confirming_saves_the_reporter_as_a_new_contact(world):
    request = unknown_caller(world)
    intake.confirm_request(request, actor=world.agent, save_reporter_as_contact=True)
    request.refresh_from_db()
    assert request.contact.customer == world.customer_a
    assert request.contact.name == "Night shift"
    assert request.contact.phone == request.reporter_phone == "+8613700137000"


def test_confirm_refuses_a_contact_of_another_customer_and_outsiders(world):
    request = unknown_caller(world)
    with pytest.raises(ValidationError) as excinfo:
        intake.confirm_request(request, actor=world.agent, contact=world.contact_z)
    assert codes(excinfo.value) == {"contact": ["invalid_choice"]}
    for outsider in (world.engineer, world.provider_admin, world.customer_user_a):
        with pytest.raises(PermissionDenied):
            intake.confirm_request(request, actor=outsider, contact=world.contact_a)
    request.refresh_from_db()
    assert request.status == RequestStatus.UNCONFIRMED and request.contact is None


def test_an_open_request_cannot_be_confirmed(world, service_request):
    with pytest.raises(DomainError):
        intake.confirm_request(service_request(), actor=world.agent)


def test_assigning_the_customer_of_a_request_from_an_unknown_sender(world):
    # Set-up: what the mailbox files for a sender who is nobody's contact.
    request = ServiceRequest.objects.create(
        number="SR-MAIL-1",
        channel=Channel.EMAIL,
        status=RequestStatus.UNCONFIRMED,
        description="Our moulder stopped",
        reporter_email="someone@example.com",
    )
    with pytest.raises(ValidationError) as excinfo:
        intake.confirm_request(request, actor=world.agent)
    assert codes(excinfo.value) == {"customer": ["required"]}
    with pytest.raises(ValidationError) as excinfo:
        intake.assign_request_customer(request, actor=world.agent, customer=world.customer_a, equipment=world.machine_z)
    assert codes(excinfo.value) == {"equipment": ["invalid_choice"]}
    request.refresh_from_db()
    assert request.customer is None
    intake.assign_request_customer(request, actor=world.agent, customer=world.customer_a, equipment=world.machine_a)
    request.refresh_from_db()
    assert (request.customer, request.equipment, request.status) == (
        world.customer_a,
        world.machine_a,
        RequestStatus.UNCONFIRMED,
    )
    intake.confirm_request(request, actor=world.agent)
    request.refresh_from_db()
    assert request.status == RequestStatus.OPEN
    with pytest.raises(DomainError):
        intake.assign_request_customer(request, actor=world.agent, customer=world.customer_z)


# Work orders


def test_a_request_may_need_several_work_orders(world, service_request):
    second_machine = factories.equipment(
        world.customer_a, product_model=world.model, serial_number="A-0002", site=world.site_a
    )
    request = service_request()
    first = intake.create_work_order(request, actor=world.agent)
    second = intake.create_work_order(request, actor=world.dispatcher, equipment=second_machine, priority="urgent")
    request.refresh_from_db()
    assert request.status == RequestStatus.CONVERTED
    assert first.number != second.number
    assert (first.equipment, first.site, first.status) == (world.machine_a, world.site_a, WorkOrderStatus.NEW)
    assert (second.equipment, second.priority) == (second_machine, "urgent")
    for order in (first, second):
        event = WorkOrderEvent.objects.get(work_order=order)
        assert (event.action, event.to_status, event.note) == ("created", WorkOrderStatus.NEW, request.number)


def test_a_consultation_request_gets_no_work_order(world, service_request):
    request = service_request(service_type=ServiceType.CONSULTATION)
    with pytest.raises(ValidationError) as excinfo:
        intake.create_work_order(request, actor=world.agent)
    assert codes(excinfo.value) == {"service_type": ["no_visit_needed"]}
    assert not WorkOrder.objects.filter(request=request).exists()
    # A visit after all: the agent says which kind.
    order = intake.create_work_order(request, actor=world.agent, service_type=ServiceType.INSPECTION)
    assert order.service_type == ServiceType.INSPECTION


def test_work_order_refuses_a_site_or_machine_of_another_customer(world, service_request):
    request = service_request()
    with pytest.raises(ValidationError) as excinfo:
        intake.create_work_order(request, actor=world.agent, site=world.site_z)
    assert codes(excinfo.value) == {"site": ["invalid_choice"]}
    with pytest.raises(ValidationError) as excinfo:
        intake.create_work_order(request, actor=world.agent, equipment=world.machine_z)
    assert codes(excinfo.value) == {"equipment": ["invalid_choice"]}
    assert not WorkOrder.objects.filter(request=request).exists()


def test_an_unconfirmed_request_gets_no_work_order_until_confirmed(world):
    request = unknown_caller(world)
    with pytest.raises(DomainError):
        intake.create_work_order(request, actor=world.agent)
    intake.confirm_request(request, actor=world.agent, contact=world.contact_a)
    assert intake.create_work_order(request, actor=world.agent).customer == world.customer_a


@pytest.mark.parametrize("who", ["engineer", "provider_admin", "customer_user_a"])
def test_only_desk_staff_make_work_orders(world, service_request, who):
    request = service_request()
    with pytest.raises(PermissionDenied):
        intake.create_work_order(request, actor=getattr(world, who))
    assert not WorkOrder.objects.filter(request=request).exists()
