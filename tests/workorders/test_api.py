"""Service requests and work orders over the API: scoped reads, idempotent creates, verb
endpoints for every move (status is never writable), uploads, and the error shapes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fieldservice.dispatch.assignments.services import dispatch_to_provider
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import RequestStatus, WorkOrderStatus
from fieldservice.workorders.models import Attachment, ServiceRequest, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services import intake
from tests import factories
from tests.workorders.conftest import not_an_image, photo

API = "/api/v1"
S = WorkOrderStatus


def post(client, url, data=None, **headers):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def error_fields(response) -> set:
    """The fields a 422 names: ["body", field] from the services, ["body", "payload", field] from the schema."""
    return {item["loc"][-1] if item["loc"][1] == "payload" else item["loc"][1] for item in response.json()["detail"]}


def order_state(order) -> tuple:
    order = WorkOrder.objects.get(pk=order.pk)
    return order.status, order.hold_reason, order.events.count()


def new_request(world, **overrides):
    data = {
        "customer": world.customer_a.pk,
        "contact": world.contact_a.pk,
        "equipment": world.machine_a.pk,
        "service_type": "repair",
        "priority": "high",
        "description": "Screw does not turn",
        "reporter_name": "Li Na",
        "reporter_phone": "13800138000",
    }
    data.update(overrides)
    return data


# Requests: filing


def test_agent_files_a_request(api_client_for, world):
    category = factories.fault_category("screw", name="Screw")
    response = post(
        api_client_for(world.agent), f"{API}/requests", new_request(world, channel="phone", fault_category=category.pk)
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("SR")
    assert (body["channel"], body["status"], body["customer"], body["equipment"], body["priority"]) == (
        "phone",
        "open",
        world.customer_a.pk,
        world.machine_a.pk,
        "high",
    )
    assert body["fault_category"] == category.pk and body["customer_name"] == "Customer A"
    assert "follow_token" not in body


def test_the_channel_defaults_to_api(api_client_for, world):
    response = post(api_client_for(world.customer_user_a), f"{API}/requests", new_request(world, priority="normal"))
    assert response.status_code == 201
    assert response.json()["channel"] == "api"


def test_filing_is_idempotent_with_a_key(api_client_for, world):
    client = api_client_for(world.agent)
    first = post(client, f"{API}/requests", new_request(world), **{"Idempotency-Key": "sr-1"})
    again = post(client, f"{API}/requests", new_request(world), **{"Idempotency-Key": "sr-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert ServiceRequest.objects.count() == 1
    assert post(client, f"{API}/requests", new_request(world)).json()["id"] != first.json()["id"]


@pytest.mark.parametrize("field", ["customer", "contact", "equipment", "fault_category"])
def test_unknown_ids_are_422_on_their_field(api_client_for, world, field):
    response = post(api_client_for(world.agent), f"{API}/requests", new_request(world, **{field: 999999}))
    assert response.status_code == 422
    assert error_fields(response) == {field}
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"priority": "whenever"}, "priority"),
        ({"service_type": "party"}, "service_type"),
        ({"channel": "pigeon"}, "channel"),
        ({"description": " "}, "description"),
        ({"status": "converted"}, "status"),
        ({"contact": "CONTACT_Z"}, "contact"),
        ({"equipment": "MACHINE_Z"}, "equipment"),
    ],
)
def test_bad_values_are_422_on_their_field(api_client_for, world, overrides, field):
    ids = {"CONTACT_Z": world.contact_z.pk, "MACHINE_Z": world.machine_z.pk}
    overrides = {key: ids.get(value, value) for key, value in overrides.items()}
    response = post(api_client_for(world.agent), f"{API}/requests", new_request(world, **overrides))
    assert response.status_code == 422, response.json()
    assert error_fields(response) == {field}
    assert not ServiceRequest.objects.exists()


def test_a_customer_cannot_file_for_another_customer(api_client_for, world):
    data = new_request(world, customer=world.customer_z.pk, contact=None, equipment=None)
    response = post(api_client_for(world.customer_user_a), f"{API}/requests", data)
    assert response.status_code == 422 and error_fields(response) == {"customer"}
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "parts_keeper", "director"])
def test_roles_that_may_not_file_get_403(api_client_for, world, who):
    response = post(api_client_for(getattr(world, who)), f"{API}/requests", new_request(world))
    assert response.status_code == 403
    assert not ServiceRequest.objects.exists()


# Requests: reading


def test_request_list_is_scoped_and_filtered(api_client_for, world, service_request):
    a = service_request(world.customer_a)
    z = service_request(world.customer_z, channel="email")

    def numbers(who, **params):
        response = api_client_for(getattr(world, who)).get(f"{API}/requests", params)
        assert response.status_code == 200
        return {item["number"] for item in response.json()["items"]}

    assert numbers("agent") == {a.number, z.number}
    assert numbers("customer_user_a") == {a.number}
    assert numbers("customer_user_z") == {z.number}
    assert numbers("provider_admin") == {a.number}
    assert numbers("other_provider_admin") == set()
    assert numbers("agent", channel="email") == {z.number}
    assert numbers("agent", customer=world.customer_a.pk) == {a.number}
    assert numbers("agent", status="open") == {a.number, z.number}
    assert numbers("agent", status="resolved") == set()
    assert numbers("agent", q="Customer Z") == {z.number}
    assert numbers("agent", q=a.number) == {a.number}


@pytest.mark.parametrize("who", ["customer_user_z", "other_provider_admin", "engineer"])
def test_a_request_of_another_tenant_is_404(api_client_for, world, service_request, who):
    request = service_request(world.customer_a)
    assert api_client_for(getattr(world, who)).get(f"{API}/requests/{request.pk}").status_code == 404
    response = post(api_client_for(getattr(world, who)), f"{API}/requests/{request.pk}/discard", {"reason": "x"})
    assert response.status_code == 404
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.OPEN


def test_request_detail(api_client_for, world, service_request):
    request = service_request(world.customer_a)
    order = intake.create_work_order(request, actor=world.agent)
    response = api_client_for(world.customer_user_a).get(f"{API}/requests/{request.pk}")
    assert response.status_code == 200
    assert response.json()["work_orders"] == [order.pk]
    assert response.json()["status"] == "converted"


# Requests: verbs


def test_confirm_an_unconfirmed_report(api_client_for, world):
    report = intake.report_fault_by_qr(world.machine_a, phone="13700137000", description="Leaking oil")
    assert report.status == RequestStatus.UNCONFIRMED
    endpoint = f"{API}/requests/{report.pk}/confirm"
    assert post(api_client_for(world.customer_user_a), endpoint).status_code == 403
    response = post(api_client_for(world.agent), endpoint, {"contact": world.contact_z.pk})
    assert response.status_code == 422 and error_fields(response) == {"contact"}
    response = post(api_client_for(world.agent), endpoint, {"contact": world.contact_a.pk})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["contact"]) == ("open", world.contact_a.pk)
    again = post(api_client_for(world.agent), endpoint)
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


def test_confirm_without_a_body(api_client_for, world):
    report = intake.report_fault_by_qr(world.machine_a, phone="13700137000", description="Leaking oil")
    response = post(api_client_for(world.agent), f"{API}/requests/{report.pk}/confirm")
    assert response.status_code == 200 and response.json()["status"] == "open"


def test_resolve_and_discard(api_client_for, world, service_request):
    client = api_client_for(world.agent)
    first, second = service_request(), service_request()
    response = post(client, f"{API}/requests/{first.pk}/resolve", {"resolution": ""})
    assert response.status_code == 422 and error_fields(response) == {"resolution"}
    response = post(client, f"{API}/requests/{first.pk}/resolve", {"resolution": "Reset the breaker"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution_note"]) == ("resolved", "Reset the breaker")
    response = post(client, f"{API}/requests/{second.pk}/discard", {"reason": "Duplicate"})
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    response = post(client, f"{API}/requests/{second.pk}/resolve", {"resolution": "Too late"})
    assert response.status_code == 409
    assert ServiceRequest.objects.get(pk=second.pk).status == RequestStatus.DISCARDED
    denied = post(api_client_for(world.customer_user_a), f"{API}/requests/{second.pk}/discard", {"reason": "x"})
    assert denied.status_code == 403


def test_create_work_orders_from_a_request(api_client_for, world, service_request):
    request = service_request()
    client = api_client_for(world.agent)
    endpoint = f"{API}/requests/{request.pk}/work-orders"
    response = post(client, endpoint, {"priority": "urgent"}, **{"Idempotency-Key": "wo-1"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["priority"], body["customer"], body["site"], body["request"]) == (
        "new",
        "urgent",
        world.customer_a.pk,
        world.site_a.pk,
        request.pk,
    )
    assert body["allowed_transitions"] == ["dispatch", "cancel"]
    again = post(client, endpoint, {"priority": "urgent"}, **{"Idempotency-Key": "wo-1"})
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert WorkOrder.objects.filter(request=request).count() == 1
    # A second visit for the same request, without a body.
    assert post(client, endpoint).status_code == 201
    assert WorkOrder.objects.filter(request=request).count() == 2


@pytest.mark.parametrize(
    "data, field",
    [
        ({"site": "SITE_Z"}, "site"),
        ({"site": 999999}, "site"),
        ({"equipment": 999999}, "equipment"),
        ({"service_type": "consultation"}, "service_type"),
        ({"status": "accepted"}, "status"),
    ],
)
def test_work_order_field_errors(api_client_for, world, service_request, data, field):
    request = service_request()
    data = {key: world.site_z.pk if value == "SITE_Z" else value for key, value in data.items()}
    response = post(api_client_for(world.agent), f"{API}/requests/{request.pk}/work-orders", data)
    assert response.status_code == 422 and error_fields(response) == {field}
    assert not WorkOrder.objects.exists()


def test_customers_may_not_create_work_orders(api_client_for, world, service_request):
    request = service_request()
    response = post(api_client_for(world.customer_user_a), f"{API}/requests/{request.pk}/work-orders")
    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


# Work orders: reading


def test_work_order_list_is_scoped_and_filtered(api_client_for, world, work_order):
    a = work_order(world.customer_a, priority="urgent")
    z = work_order(world.customer_z)
    mine = work_order(world.customer_z, engineer=world.engineer)

    def numbers(who, **params):
        response = api_client_for(getattr(world, who)).get(f"{API}/work-orders", params)
        assert response.status_code == 200
        return {item["number"] for item in response.json()["items"]}

    assert numbers("dispatcher") == {a.number, z.number, mine.number}
    assert numbers("customer_user_a") == {a.number}
    assert numbers("customer_user_z") == {z.number, mine.number}
    assert numbers("engineer") == {mine.number}
    assert numbers("provider_admin") == set()
    assert numbers("dispatcher", status="dispatched") == {mine.number}
    assert numbers("dispatcher", priority="urgent") == {a.number}
    assert numbers("dispatcher", customer=world.customer_z.pk) == {z.number, mine.number}
    assert numbers("dispatcher", engineer=world.engineer.pk) == {mine.number}
    assert numbers("dispatcher", q="A-0001") == {a.number}
    assert numbers("dispatcher", q=z.number) == {z.number}


def test_work_order_detail_has_assignments_resolution_and_allowed_moves(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    response = api_client_for(world.engineer).get(f"{API}/work-orders/{order.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    assert [(a["engineer"], a["role"], a["status"]) for a in body["assignments"]] == [
        (world.engineer.pk, "lead", "accepted")
    ]
    assert set(body["allowed_transitions"]) == {"revoke", "start_travel", "check_in", "hold", "cancel"}
    for field in ("resolution_type", "fault_cause", "actions_taken", "labour_hours", "completed_at", "closed_at"):
        assert field in body


def test_a_provider_admin_sees_orders_given_to_their_company(api_client_for, world, work_order):
    order = work_order()
    dispatch_to_provider(order, actor=world.dispatcher, provider=world.provider)
    assert api_client_for(world.provider_admin).get(f"{API}/work-orders/{order.pk}").status_code == 200
    assert api_client_for(world.other_provider_admin).get(f"{API}/work-orders/{order.pk}").status_code == 404


@pytest.mark.parametrize("who", ["customer_user_z", "engineer", "provider_admin", "other_provider_admin"])
def test_a_work_order_of_another_tenant_is_404_and_untouched(api_client_for, world, work_order, who):
    order = work_order(world.customer_a)
    client = api_client_for(getattr(world, who))
    before = order_state(order)
    assert client.get(f"{API}/work-orders/{order.pk}").status_code == 404
    assert client.get(f"{API}/work-orders/{order.pk}/log").status_code == 404
    assert post(client, f"{API}/work-orders/{order.pk}/cancel", {"reason": "x"}).status_code == 404
    assert post(client, f"{API}/work-orders/{order.pk}/hold", {"hold_reason": "waiting_parts"}).status_code == 404
    assert order_state(order) == before


def test_the_service_log(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    response = api_client_for(world.customer_user_a).get(f"{API}/work-orders/{order.pk}/log")
    assert response.status_code == 200
    assert [(e["action"], e["to_status"]) for e in response.json()] == [
        ("created", "new"),
        ("dispatch", "dispatched"),
        ("accept", "accepted"),
    ]
    assert response.json()[-1]["actor"] == world.engineer.pk


# Work orders: verbs


def test_the_assigned_engineer_holds_and_resumes(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    client = api_client_for(world.engineer)
    response = post(client, f"{API}/work-orders/{order.pk}/hold", {"hold_reason": "lunch"})
    assert response.status_code == 422 and error_fields(response) == {"hold_reason"}
    response = post(client, f"{API}/work-orders/{order.pk}/hold", {"hold_reason": "other"})
    assert response.status_code == 422 and error_fields(response) == {"note"}
    assert order_state(order)[0] == S.ACCEPTED
    response = post(client, f"{API}/work-orders/{order.pk}/hold", {"hold_reason": "waiting_parts", "note": "Seal"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["hold_reason"]) == ("on_hold", "waiting_parts")
    assert response.json()["allowed_transitions"] == ["resume", "cancel"]
    response = post(client, f"{API}/work-orders/{order.pk}/resume")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    response = post(client, f"{API}/work-orders/{order.pk}/resume", {"note": "again"})
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_customers_may_not_hold_or_cancel(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    client = api_client_for(world.customer_user_a)
    before = order_state(order)
    assert post(client, f"{API}/work-orders/{order.pk}/hold", {"hold_reason": "waiting_parts"}).status_code == 403
    assert post(client, f"{API}/work-orders/{order.pk}/cancel", {"reason": "x"}).status_code == 403
    assert post(client, f"{API}/work-orders/{order.pk}/close").status_code == 403
    assert order_state(order) == before


def test_cancel_ends_the_assignments(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer, accepted=True)
    client = api_client_for(world.agent)
    response = post(client, f"{API}/work-orders/{order.pk}/cancel", {"reason": ""})
    assert response.status_code == 422 and error_fields(response) == {"reason"}
    response = post(client, f"{API}/work-orders/{order.pk}/cancel", {"reason": "Customer fixed it"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["allowed_transitions"] == []
    assert [a["status"] for a in response.json()["assignments"]] == ["revoked"]
    assert set(Assignment.objects.filter(work_order=order).values_list("status", flat=True)) == {
        AssignmentStatus.REVOKED
    }


def test_closing_a_new_order_is_409_and_changes_nothing(api_client_for, world, work_order):
    order = work_order()
    before = order_state(order)
    response = post(api_client_for(world.agent), f"{API}/work-orders/{order.pk}/close", {"note": "Done"})
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition" and response.json()["detail"]
    assert order_state(order) == before


def test_close_a_completed_order(api_client_for, world, work_order):
    order = work_order()
    WorkOrder.objects.filter(pk=order.pk).update(status=S.COMPLETED)  # set-up: skip the site visit
    response = post(api_client_for(world.agent), f"{API}/work-orders/{order.pk}/close", {"note": "Report checked"})
    assert response.status_code == 200
    assert response.json()["status"] == "closed" and response.json()["closed_at"]
    assert WorkOrderEvent.objects.filter(work_order=order, action="close", note="Report checked").exists()


def test_status_is_not_writable(api_client_for, world, work_order):
    order = work_order()
    client = api_client_for(world.agent)
    assert client.patch(f"{API}/work-orders/{order.pk}", {"status": "closed"}, "application/json").status_code == 405
    response = post(client, f"{API}/work-orders/{order.pk}/cancel", {"reason": "x", "status": "closed"})
    assert response.status_code == 422 and error_fields(response) == {"status"}
    assert order_state(order)[0] == S.NEW


# Attachments


def upload(client, url, file, **data):
    return client.post(url, {"file": file, **data})


def test_attach_a_photo_and_a_document_to_a_request(api_client_for, world, service_request):
    request = service_request()
    client = api_client_for(world.customer_user_a)
    response = upload(client, f"{API}/requests/{request.pk}/attachments", photo())
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["content_type"]) == ("photo", "image/png")
    pdf = SimpleUploadedFile("manual.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = upload(client, f"{API}/requests/{request.pk}/attachments", pdf, kind="document")
    assert response.status_code == 201 and response.json()["content_type"] == "application/pdf"
    assert request.attachments.count() == 2
    detail = client.get(f"{API}/requests/{request.pk}").json()
    assert [a["kind"] for a in detail["attachments"]] == ["photo", "document"]


@pytest.mark.parametrize(
    "file, kind, code",
    [
        (not_an_image, "photo", "not_an_image"),
        (lambda: SimpleUploadedFile("x.exe", b"MZ\x90\x00", content_type="application/pdf"), "document", None),
        (photo, "signature", "invalid_choice"),
        (photo, "selfie", "invalid_choice"),
    ],
)
def test_bad_uploads_are_422(api_client_for, world, service_request, file, kind, code):
    request = service_request()
    response = upload(api_client_for(world.agent), f"{API}/requests/{request.pk}/attachments", file(), kind=kind)
    assert response.status_code == 422
    fields = error_fields(response)
    assert fields == ({"kind"} if kind in ("signature", "selfie") else {"file"})
    if code:
        assert response.json()["detail"][0]["type"] == code
    assert not Attachment.objects.exists()


def test_a_photo_that_is_too_big_is_422(api_client_for, world, service_request, monkeypatch):
    monkeypatch.setattr(intake, "PHOTO_LIMIT", 10)
    request = service_request()
    response = upload(api_client_for(world.agent), f"{API}/requests/{request.pk}/attachments", photo())
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "file_too_big"
    assert not Attachment.objects.exists()


def test_attach_to_a_work_order(api_client_for, world, work_order):
    order = work_order(engineer=world.engineer)
    endpoint = f"{API}/work-orders/{order.pk}/attachments"
    assert upload(api_client_for(world.engineer), endpoint, photo()).status_code == 201
    assert upload(api_client_for(world.dispatcher), endpoint, photo()).status_code == 201
    assert upload(api_client_for(world.customer_user_a), endpoint, photo()).status_code == 403
    assert upload(api_client_for(factories.engineer(world.own)), endpoint, photo()).status_code == 404
    assert upload(api_client_for(world.customer_user_z), endpoint, photo()).status_code == 404
    assert order.attachments.count() == 2
    body = api_client_for(world.engineer).get(f"{API}/work-orders/{order.pk}").json()
    assert len(body["attachments"]) == 2


def test_attachments_of_another_tenant_are_404(api_client_for, world, service_request):
    request = service_request(world.customer_a)
    response = upload(api_client_for(world.customer_user_z), f"{API}/requests/{request.pk}/attachments", photo())
    assert response.status_code == 404
    assert not Attachment.objects.exists()


# Reference data


def test_fault_categories(api_client_for, world):
    parent = factories.fault_category("hydraulics", name="Hydraulics")
    factories.fault_category("oil-temp", name="Oil temperature", parent=parent)
    factories.fault_category("old", name="Old", is_active=False)
    response = api_client_for(world.customer_user_a).get(f"{API}/fault-categories")
    assert response.status_code == 200
    assert [(c["code"], c["parent"]) for c in response.json()] == [("hydraulics", None), ("oil-temp", parent.pk)]


def test_anonymous_calls_are_refused(client, world):
    assert client.get(f"{API}/requests").status_code == 401
    assert client.get(f"{API}/work-orders").status_code == 401
    assert client.post(f"{API}/requests", {}, content_type="application/json").status_code == 401
