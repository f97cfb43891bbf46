"""The field API: the visit's verbs, with 403 / 404 / 409 / 422 as documented, and nothing changed
by a refusal."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from fieldservice.field import services
from fieldservice.field.models import PartUsage, Signature
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import Attachment, WorkOrder, WorkOrderEvent
from tests.field.conftest import accept, on_site, png_file, ready_to_complete, record

S = WorkOrderStatus


def path(order, verb: str) -> str:
    return f"/api/v1/work-orders/{order.pk}/{verb}"


def status_of(order) -> str:
    return WorkOrder.objects.get(pk=order.pk).status


def log_count(order) -> int:
    return WorkOrderEvent.objects.filter(work_order=order).count()


def test_start_travel_and_check_in(visit, api_client_for):
    accept(visit)
    client = api_client_for(visit.engineer)
    response = client.post(path(visit.order, "start-travel"), content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "travelling"
    response = client.post(
        path(visit.order, "check-in"),
        {"latitude": 29.87, "longitude": 121.55, "accuracy": 20},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "on_site" and body["checked_in_at"]
    assert body["distance_km"] == pytest.approx(0.6, abs=0.05) and body["location_missing"] is False


def test_start_travel_with_a_position(visit, api_client_for):
    accept(visit)
    response = api_client_for(visit.engineer).post(
        path(visit.order, "start-travel"), {"latitude": 30.1, "longitude": 121.2}, content_type="application/json"
    )
    assert response.status_code == 200
    event = WorkOrderEvent.objects.filter(work_order=visit.order).latest("pk")
    assert (str(event.latitude), str(event.longitude)) == ("30.100000", "121.200000")


def test_check_in_without_a_location(visit, api_client_for):
    accept(visit)
    response = api_client_for(visit.engineer).post(
        path(visit.order, "check-in"),
        {"latitude": None, "longitude": None, "location_error": "denied"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["location_missing"] is True and response.json()["distance_km"] is None


def test_check_in_before_accepting_is_409_and_changes_nothing(visit, api_client_for):
    before = log_count(visit.order)
    response = api_client_for(visit.engineer).post(
        path(visit.order, "check-in"), {"latitude": 29.87, "longitude": 121.55}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert status_of(visit.order) == S.DISPATCHED and log_count(visit.order) == before


def test_bad_coordinates_are_422_on_their_field(visit, api_client_for):
    accept(visit)
    response = api_client_for(visit.engineer).post(
        path(visit.order, "check-in"), {"latitude": 95, "longitude": 121.55}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "latitude"]
    assert status_of(visit.order) == S.ACCEPTED


def test_another_engineer_gets_404_and_desk_staff_403(visit, api_client_for):
    on_site(visit)
    before = log_count(visit.order)
    for verb, body in [
        ("start-travel", {}),
        ("check-in", {"latitude": None, "longitude": None}),
        ("work", {"resolution_type": "repair", "fault_cause": "x", "actions_taken": "y", "labour_hours": 1}),
        ("parts", {"part": visit.seal.pk, "quantity": 1}),
        ("complete", {}),
    ]:
        other = api_client_for(visit.other_engineer).post(
            path(visit.order, verb), body, content_type="application/json"
        )
        assert other.status_code == 404, verb
        desk = api_client_for(visit.dispatcher).post(path(visit.order, verb), body, content_type="application/json")
        assert desk.status_code == 403, verb
    assert api_client_for(visit.other_engineer).get(path(visit.order, "parts")).status_code == 404
    assert status_of(visit.order) == S.ON_SITE and log_count(visit.order) == before
    assert not PartUsage.objects.exists()


def test_record_work(visit, api_client_for):
    on_site(visit)
    client = api_client_for(visit.engineer)
    response = client.post(
        path(visit.order, "work"),
        {"resolution_type": "nonsense", "fault_cause": "", "actions_taken": "修好了", "labour_hours": "-2"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert {tuple(d["loc"]): d["type"] for d in response.json()["detail"]} == {
        ("body", "resolution_type"): "invalid_choice",
        ("body", "fault_cause"): "required",
        ("body", "labour_hours"): "out_of_range",
    }
    response = client.post(
        path(visit.order, "work"),
        {"resolution_type": "repair", "fault_cause": "油路堵塞", "actions_taken": "修好了", "labour_hours": 1.25},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["resolution_type"], response.json()["labour_hours"]) == ("repair", "1.25")


def test_parts(visit, api_client_for):
    on_site(visit)
    client = api_client_for(visit.engineer)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    response = client.post(
        path(visit.order, "parts"),
        {"replaces": motor.pk, "quantity": "1", "new_serial": "M-9"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["part_number"], body["replaces"], body["is_replacement"], body["new_serial"]) == (
        "MOTOR-1",
        motor.pk,
        True,
        "M-9",
    )
    response = client.post(
        path(visit.order, "parts"), {"part": visit.seal.pk, "quantity": 3}, content_type="application/json"
    )
    assert response.status_code == 201
    listed = client.get(path(visit.order, "parts")).json()
    assert [(p["part_number"], p["quantity"]) for p in listed] == [("MOTOR-1", "1.000"), ("SEAL-9", "3.000")]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"quantity": 0}, "quantity", "out_of_range"),
        ({"quantity": "-1"}, "quantity", "out_of_range"),
        ({"quantity": "many"}, "quantity", "invalid"),
        ({"quantity": 1, "part": 999999}, "part", "does_not_exist"),
        ({"quantity": 1, "replaces": "other"}, "replaces", "does_not_exist"),
        ({"quantity": 1, "part": None}, "part", "required"),
    ],
)
def test_bad_parts_are_422(visit, api_client_for, body, field, code):
    on_site(visit)
    if body.get("replaces") == "other":
        body["replaces"] = visit.other_machine.fitted_parts.first().pk
    elif "part" not in body:
        body["part"] = visit.seal.pk
    response = api_client_for(visit.engineer).post(path(visit.order, "parts"), body, content_type="application/json")
    assert response.status_code == 422
    assert [(d["loc"], d["type"]) for d in response.json()["detail"]] == [(["body", field], code)]
    assert not PartUsage.objects.exists()


def test_a_repeated_part_post_with_the_same_key_records_once(visit, api_client_for):
    on_site(visit)
    client = api_client_for(visit.engineer)
    for _ in range(2):
        response = client.post(
            path(visit.order, "parts"),
            {"part": visit.seal.pk, "quantity": 1},
            content_type="application/json",
            headers={"Idempotency-Key": "tap-1"},
        )
        assert response.status_code == 201
    assert PartUsage.objects.count() == 1


def test_photos_and_signature_multipart(visit, api_client_for):
    on_site(visit)
    client = api_client_for(visit.engineer)
    response = client.post(path(visit.order, "photos"), {"file": png_file("p.png")})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "photo"
    response = client.post(path(visit.order, "photos"), {"file": SimpleUploadedFile("p.txt", b"text")})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "file"]

    response = client.post(
        path(visit.order, "signature"), {"image": png_file("s.png", ink=False), "signer_name": "王经理"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "empty"
    response = client.post(path(visit.order, "signature"), {"image": png_file("s.png"), "signer_name": "王经理"})
    assert response.status_code == 201, response.content
    assert response.json()["signer_name"] == "王经理" and response.json()["attachment"]["kind"] == "signature"
    assert Signature.objects.count() == 1
    assert Attachment.objects.filter(work_order=visit.order).count() == 2


def test_complete_and_report(visit, api_client_for, django_capture_on_commit_callbacks):
    on_site(visit)
    record(visit)
    client = api_client_for(visit.engineer)
    assert client.get(path(visit.order, "report.pdf")).status_code == 409
    response = client.post(path(visit.order, "complete"))
    assert response.status_code == 409 and response.json()["code"] == "signature_required"
    assert status_of(visit.order) == S.ON_SITE
    services.capture_signature(visit.order, actor=visit.engineer, image_file=png_file(), signer_name="王经理")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path(visit.order, "complete"))
    assert response.status_code == 200 and response.json()["status"] == "completed"
    assert len(mail.outbox) == 1
    response = client.get(path(visit.order, "report.pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert api_client_for(visit.dispatcher).get(path(visit.order, "report.pdf")).status_code == 200
    assert api_client_for(visit.other_engineer).get(path(visit.order, "report.pdf")).status_code == 404
    assert api_client_for(visit.customer_user_z).get(path(visit.order, "report.pdf")).status_code == 404


def test_a_completed_visit_refuses_more_work(visit, api_client_for, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    client = api_client_for(visit.engineer)
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(path(visit.order, "complete")).status_code == 200
    response = client.post(
        path(visit.order, "parts"), {"part": visit.seal.pk, "quantity": 1}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "not_on_site"


def test_parts_come_from_stock_through_the_api(visit, api_client_for):
    from decimal import Decimal

    from fieldservice.inventory.choices import MoveReason, Tracking
    from fieldservice.inventory.models import StockMove
    from tests import factories

    sensor = factories.part(part_number="SENSOR-1", tracking=Tracking.SERIAL)
    factories.fill_van(visit.engineer, sensor, 1, serials="S-1", source=visit.store)
    grease = factories.part(tracking=Tracking.LOT)
    factories.fill_van(visit.engineer, grease, 2, lot="L1", source=visit.store)
    factories.fill_van(visit.engineer, grease, 2, lot="L2", source=visit.store)
    on_site(visit)
    client = api_client_for(visit.engineer)
    moves = StockMove.objects.count()

    def refused(body):
        response = client.post(path(visit.order, "parts"), body, content_type="application/json")
        assert response.status_code == 422, response.content
        return [(d["loc"][-1], d["type"]) for d in response.json()["detail"]]

    assert refused({"part": visit.seal.pk, "quantity": 11}) == [("quantity", "insufficient_stock")]
    assert refused({"part": sensor.pk, "quantity": 1, "serial": "S-404"}) == [("serial", "not_here")]
    assert refused({"part": grease.pk, "quantity": 1}) == [("lot", "required")]
    # A warehouse he cannot see is no warehouse to him.
    assert refused({"part": visit.seal.pk, "quantity": 1, "warehouse": visit.store.pk}) == [
        ("warehouse", "does_not_exist")
    ]
    assert refused({"part": visit.seal.pk, "quantity": 1, "warehouse": 999999}) == [("warehouse", "does_not_exist")]
    assert not PartUsage.objects.exists() and StockMove.objects.count() == moves
    used = client.post(
        path(visit.order, "parts"), {"part": sensor.pk, "quantity": 1, "serial": "S-1"}, content_type="application/json"
    )
    assert used.status_code == 201 and used.json()["new_serial"] == "S-1"
    used = client.post(
        path(visit.order, "parts"), {"part": grease.pk, "quantity": 2, "lot": "L2"}, content_type="application/json"
    )
    assert used.status_code == 201
    taken = StockMove.objects.filter(reason=MoveReason.CONSUMPTION).order_by("pk")
    assert [(m.part_id, m.lot, m.quantity) for m in taken] == [
        (sensor.pk, "", Decimal(-1)),
        (grease.pk, "L2", Decimal(-2)),
    ]
