"""Inspections through the services: starting one (and the bad input it refuses), the moves of the
transition table, the orders approval opens, findings and their dispositions, the report."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from fieldservice.core.choices import ServiceType
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from fieldservice.field.choices import ReportLayout
from fieldservice.field.models import JobStep
from fieldservice.maintenance.models import Finding, Inspection, InspectionItem
from fieldservice.maintenance.models.inspections import ChangeDecision, InspectionStatus
from fieldservice.maintenance.services import inspections as services
from fieldservice.workorders.choices import Channel
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.field.conftest import png_file
from tests.maintenance.inspection_data import approved, health_check, start

S = InspectionStatus


def _code(error: ValidationError, field: str) -> str:
    return error.error_dict[field][0].code


def _events(obj, action):
    return Event.objects.filter(object_pk=str(obj.pk), action=action, content_type__model=obj._meta.model_name)


# Starting ----------------------------------------------------------------------------------------------


def test_start_builds_the_plan_from_machines_template_and_open_issues(world):
    open_order = factories.work_order(world.p.customer_a, equipment=world.machines[0])
    inspection = start(world, issue_orders=[open_order.pk], planned_on="2030-05-01")
    assert inspection.status == S.DRAFT
    assert inspection.number.startswith("IN")
    assert [m.equipment_id for m in inspection.machines.all()] == [m.pk for m in world.machines]
    item = InspectionItem.objects.get(machine__inspection=inspection)
    assert item.work_order == open_order and item.machine.equipment == world.machines[0]
    assert list(inspection.engineers.all()) == [world.engineer]
    assert _events(inspection, "inspection_created").count() == 1
    # A line on each machine's history.
    for machine in world.machines:
        assert _events(machine, "inspection_created").get().related_object_pk == str(inspection.pk)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"equipment": []}, "equipment", "required"),
        ({"equipment": "elsewhere"}, "equipment", "other_site"),
        ({"equipment": "machine_z"}, "equipment", "invalid_choice"),
        ({"template": "repair"}, "template", "wrong_service_type"),
        ({"issue_orders": "other"}, "issue_orders", "invalid_choice"),
        ({"owner": "director"}, "owner", "invalid_choice"),
        ({"engineers": "agent"}, "engineers", "not_an_engineer"),
        ({"site": "z"}, "site", "invalid_choice"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world, change, field, code):
    p = world.p
    fields = {
        "actor": p.dispatcher,
        "customer": p.customer_a,
        "site": world.site,
        "equipment": [m.pk for m in world.machines],
        "template": world.template,
        "owner": p.dispatcher,
    }
    key, value = next(iter(change.items()))
    if value == "elsewhere":
        value = [world.machines[0].pk, world.elsewhere.pk]
    elif value == "machine_z":
        value = [world.machine_z.pk]
    elif value == "repair":
        value = health_check(service_type=ServiceType.REPAIR)
    elif value == "other":
        value = [factories.work_order(p.customer_a, equipment=world.elsewhere).pk]
    elif value == "director":
        value = p.director  # runs inspections but may not open the orders approval opens
    elif value == "agent":
        value = [p.agent]
    elif value == "z":
        value = world.site_z
    fields[key] = value
    with pytest.raises(ValidationError) as caught:
        services.create_inspection(**fields)
    assert _code(caught.value, field) == code
    assert not Inspection.objects.exists()


def test_only_the_desk_that_runs_inspections_starts_one(world):
    for actor in (world.p.agent, world.p.customer_user_a, world.engineer, world.p.provider_admin):
        with pytest.raises(PermissionDenied):
            services.create_inspection(
                actor=actor,
                customer=world.p.customer_a,
                site=world.site,
                equipment=[m.pk for m in world.machines],
                template=world.template,
                owner=world.p.dispatcher,
            )
    assert not Inspection.objects.exists()


# Moves -----------------------------------------------------------------------------------------------------


def test_approval_opens_one_proactive_inspection_order_per_machine_with_the_template_steps(world):
    inspection = approved(world)
    assert inspection.status == S.APPROVED
    assert inspection.decided_by_name == "Ms Wang"
    orders = WorkOrder.objects.filter(inspection_machine__inspection=inspection)
    assert orders.count() == 2
    for order in orders:
        assert order.service_type == ServiceType.INSPECTION
        assert order.request.channel == Channel.PROACTIVE
        assert order.site == world.site
        assert list(JobStep.objects.filter(work_order=order).values_list("title", flat=True)) == [
            "Guards in place",
            "Oil temperature",
        ]
        # Offered to the named engineer.
        assert order.assignments.filter(engineer=world.engineer).exists()
    assert {m.work_order.equipment_id for m in inspection.machines.all()} == {m.pk for m in world.machines}
    for machine in world.machines:
        assert _events(machine, "inspection_approve").count() == 1


def test_illegal_moves_are_refused_with_a_code_and_write_nothing(world):
    inspection = start(world)
    with pytest.raises(DomainError) as caught:
        services.approve_inspection(inspection, follow_token=inspection.follow_token, name="X")
    assert caught.value.code == "illegal_transition"
    inspection = approved(world)
    events = Event.objects.count()
    orders = WorkOrder.objects.count()
    with pytest.raises(DomainError) as caught:
        services.approve_inspection(inspection, follow_token=inspection.follow_token, name="Again")
    assert caught.value.code == "illegal_transition"
    with pytest.raises(DomainError):
        services.confirm_report(inspection, follow_token=inspection.follow_token, name="Too early")
    with pytest.raises(DomainError):
        services.close_inspection(inspection, actor=world.p.dispatcher)
    inspection.refresh_from_db()
    assert inspection.status == S.APPROVED and inspection.confirmed_by_name == ""
    assert Event.objects.count() == events and WorkOrder.objects.count() == orders


def test_the_whole_way_to_closed(world):
    p = world.p
    inspection = approved(world)
    services.start_inspection(inspection, actor=world.engineer)
    services.send_report(inspection, actor=p.dispatcher)
    services.comment_on_report(inspection, actor=p.customer_user_a, comment="Please add the pump.")
    services.send_report(inspection, actor=p.dispatcher)
    inspection.refresh_from_db()
    assert inspection.status == S.REPORTED and inspection.report_version == 2
    assert inspection.customer_comment == "Please add the pump."
    services.confirm_report(inspection, actor=p.customer_user_a, name="Ms Wang")
    services.close_inspection(inspection, actor=p.dispatcher)
    inspection.refresh_from_db()
    assert inspection.status == S.CLOSED and inspection.confirmed_by_name == "Ms Wang"
    # The confirmation is archived on each machine's history, naming the report version.
    for machine in world.machines:
        event = _events(machine, "inspection_confirm").get()
        assert event.related_object_pk == str(inspection.pk)
    assert _events(inspection, "inspection_confirm").get().changes["report_version"] == [None, 2]


def test_decline_needs_a_reason_and_revise_returns_to_draft(world):
    inspection = start(world)
    services.send_inspection(inspection, actor=world.p.dispatcher)
    with pytest.raises(ValidationError) as caught:
        services.decline_inspection(inspection, follow_token=inspection.follow_token, reason=" ")
    assert _code(caught.value, "reason") == "required"
    services.decline_inspection(inspection, follow_token=inspection.follow_token, reason="Production week")
    inspection.refresh_from_db()
    assert inspection.status == S.DECLINED and inspection.decline_reason == "Production week"
    assert not WorkOrder.objects.filter(inspection_machine__inspection=inspection).exists()
    services.revise_inspection(inspection, actor=world.p.dispatcher)
    inspection.refresh_from_db()
    assert inspection.status == S.DRAFT


def test_the_customer_decides_only_his_own_and_a_wrong_token_is_refused(world):
    inspection = start(world)
    services.send_inspection(inspection, actor=world.p.dispatcher)
    for kwargs in (
        {"actor": world.p.customer_user_z},
        {"actor": world.p.dispatcher},
        {"follow_token": "x" * 22},
    ):
        with pytest.raises(PermissionDenied):
            services.approve_inspection(inspection, name="Someone", **kwargs)
    inspection.refresh_from_db()
    assert inspection.status == S.SENT
    services.approve_inspection(inspection, actor=world.p.customer_user_a, name="Ms Wang")
    inspection.refresh_from_db()
    assert inspection.status == S.APPROVED


def test_cancel_needs_a_reason_and_not_after_the_report(world):
    inspection = start(world)
    with pytest.raises(ValidationError):
        services.cancel_inspection(inspection, actor=world.p.dispatcher, reason="")
    services.cancel_inspection(inspection, actor=world.p.dispatcher, reason="Customer moved")
    inspection.refresh_from_db()
    assert inspection.status == S.CANCELLED
    with pytest.raises(DomainError):
        services.send_inspection(inspection, actor=world.p.dispatcher)


# Findings ------------------------------------------------------------------------------------------------


def _finding(world, inspection, **fields):
    fields.setdefault("machine", inspection.machines.first().pk)
    fields.setdefault("severity", "medium")
    fields.setdefault("title", "Oil leak at the pump")
    fields.setdefault("disposition", "fixed")
    fields.setdefault("action_taken", "Seal tightened")
    return services.record_finding(inspection, actor=world.engineer, **fields)


def test_a_finding_starts_the_inspection_and_lands_on_the_machine_history(world):
    inspection = approved(world)
    finding = _finding(world, inspection, photo=png_file())
    inspection.refresh_from_db()
    assert inspection.status == S.IN_PROGRESS
    assert finding.photo is not None and finding.photo.work_order == finding.machine.work_order
    assert _events(finding.machine.equipment, "inspection_finding").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"disposition": ""}, "disposition", "required"),
        ({"disposition": "maybe"}, "disposition", "invalid_choice"),
        ({"severity": ""}, "severity", "required"),
        ({"action_taken": ""}, "action_taken", "required"),
        ({"disposition": "recommendation", "action_taken": ""}, "recommendation", "required"),
        ({"machine": 999999}, "machine", "invalid_choice"),
        ({"photo": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")}, "photo", None),
    ],
)
def test_bad_findings_are_refused_naming_the_field(world, fields, field, code):
    inspection = approved(world)
    with pytest.raises(ValidationError) as caught:
        _finding(world, inspection, **fields)
    assert field in caught.value.error_dict
    if code:
        assert _code(caught.value, field) == code
    assert not Finding.objects.exists()
    inspection.refresh_from_db()
    assert inspection.status == S.APPROVED


def test_a_machine_of_another_inspection_is_not_a_machine_of_this_one(world):
    first = approved(world)
    other = approved(world)
    with pytest.raises(ValidationError):
        _finding(world, first, machine=other.machines.first().pk)


def test_findings_wait_for_approval_and_stop_with_the_report(world):
    inspection = start(world)
    with pytest.raises(DomainError):
        _finding(world, inspection)
    services.send_inspection(inspection, actor=world.p.dispatcher)
    services.approve_inspection(inspection, follow_token=inspection.follow_token, name="W")
    services.start_inspection(inspection, actor=world.p.dispatcher)
    services.send_report(inspection, actor=world.p.dispatcher)
    with pytest.raises(DomainError):
        _finding(world, inspection)


def test_only_engineers_on_it_and_the_desk_record_findings(world):
    inspection = approved(world)
    stranger = factories.engineer(world.p.own)
    for actor in (stranger, world.p.customer_user_a, world.p.provider_admin, world.p.agent):
        with pytest.raises(PermissionDenied):
            services.record_finding(
                inspection,
                actor=actor,
                machine=inspection.machines.first().pk,
                severity="low",
                title="x",
                disposition="recommendation",
                recommendation="y",
            )
    assert not Finding.objects.exists()


def test_a_repair_finding_opens_a_repair_order_that_links_back(world):
    inspection = approved(world)
    line = inspection.machines.first()
    finding = _finding(world, inspection, disposition="repair", action_taken="", note="Pump bearing noisy")
    order = finding.repair_order
    assert order is not None and order.service_type == ServiceType.REPAIR
    assert order.equipment == line.equipment and order.request.channel == Channel.PROACTIVE
    assert inspection.number in order.description
    assert list(order.inspection_findings.all()) == [finding]


def test_a_change_waits_for_the_customer_who_decides_once(world):
    inspection = approved(world)
    finding = _finding(world, inspection, disposition="change", action_taken="", recommendation="Replace hoses")
    assert finding.change_decision == ChangeDecision.PENDING
    with pytest.raises(ValidationError) as caught:
        services.decide_change(finding, approve=False, follow_token=inspection.follow_token)
    assert _code(caught.value, "reason") == "required"
    with pytest.raises(PermissionDenied):
        services.decide_change(finding, approve=True, actor=world.p.customer_user_z)
    services.decide_change(finding, approve=True, follow_token=inspection.follow_token, name="Ms Wang")
    finding.refresh_from_db()
    assert finding.change_decision == ChangeDecision.APPROVED
    with pytest.raises(DomainError) as caught:
        services.decide_change(finding, approve=False, reason="no", follow_token=inspection.follow_token)
    assert caught.value.code == "already_decided"


def test_a_certificate_template_numbers_a_certificate_per_machine(world):
    world.template = health_check(layout=ReportLayout.CERTIFICATE)
    inspection = approved(world)
    services.start_inspection(inspection, actor=world.p.dispatcher)
    services.send_report(inspection, actor=world.p.dispatcher)
    numbers = [m.certificate_number for m in inspection.machines.all()]
    assert numbers == [f"{inspection.number}-01", f"{inspection.number}-02"]
    assert all(m.certificate_valid_until for m in inspection.machines.all())


def test_moves_tell_the_customer_and_the_owner_through_the_outbox(world):
    from fieldservice.core.models import OutboxMessage

    p = world.p
    inspection = start(world)
    services.send_inspection(inspection, actor=p.dispatcher)
    sent = OutboxMessage.objects.get(topic="inspection.send").payload
    assert sent["recipients"] == [p.customer_user_a.pk]
    assert sent["url"] == f"/r/i/{inspection.follow_token}/"
    services.approve_inspection(inspection, follow_token=inspection.follow_token, name="W")
    told = OutboxMessage.objects.get(topic="inspection.approve").payload
    assert set(told["recipients"]) == {p.dispatcher.pk, world.engineer.pk}


def test_cancelling_takes_the_orders_not_yet_worked_on_with_it(world):
    from fieldservice.workorders.choices import WorkOrderStatus

    inspection = approved(world)
    services.cancel_inspection(inspection, actor=world.p.dispatcher, reason="Plant closed")
    statuses = set(WorkOrder.objects.filter(inspection_machine__inspection=inspection).values_list("status", flat=True))
    assert statuses == {WorkOrderStatus.CANCELLED}
