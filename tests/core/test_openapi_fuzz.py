"""Schemathesis over the whole OpenAPI document, in-process through the WSGI app, as an administrator
and as a customer: no answer may be a server error, and every documented answer must match its schema.

Path ids are drawn from the seeded rows (plus ids no row has, up to beyond 64 bits) so operations
reach real objects; everything else is generated from the document, valid and invalid values alike.
The examples per operation are bounded so the module takes a minute or two on two cores: 12 on
PostgreSQL, the production database (where an integer overflow or a type the server refuses
shows), 8 on SQLite, where the same operations run as a quicker second pass (FSM_FUZZ_EXAMPLES
sets either)."""

import datetime as dt
import os
from copy import deepcopy

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from fieldservice.accounts.choices import Role
from fieldservice.accounts.services import create_api_token
from fieldservice.api import api
from tests import factories

MAX_EXAMPLES = int(
    os.environ.get("FSM_FUZZ_EXAMPLES")
    or (12 if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")) else 8)
)
# Only the operations whose path starts with this (FSM_FUZZ_PATHS=/api/v1/billing/): one app's run.
ONLY_PATHS = os.environ.get("FSM_FUZZ_PATHS", "")
CHECKS = [not_a_server_error, response_schema_conformance]
# Ids no row has: small, the largest 64-bit integer, and beyond what a database integer holds.
MISSING_IDS = [987654, 2**63 - 1, 2**63, 10**20]


@pytest.fixture
def seeded(personas):
    """A little of everything, so operations find objects and not only 404s."""
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer
    from fieldservice.dispatch.rules import services as rule_services
    from fieldservice.scheduling.services import create_absence

    admin = personas.admin
    engineer = factories.engineer(personas.own)
    contact = factories.contact(personas.customer_a, name="Li Na", phone="13800138000")
    site = factories.site(personas.customer_a, name="Plant A", city="Ningbo")
    factories.part(actor=admin, part_number="P-1", name="Seal")
    model = factories.product_model(actor=admin, code="M-1", name="Press")
    machine = factories.equipment(personas.customer_a, actor=admin, product_model=model, site=site)
    request = factories.service_request(personas.customer_a, actor=admin, equipment=machine, contact=contact)
    order = factories.work_order(personas.customer_a, actor=admin)
    dispatch_to_engineer(order, actor=admin, engineer=engineer, note="")
    factories.contract(personas.customer_a, machines=[machine], actor=admin)
    factories.webhook_subscription(actor=admin)
    factories.fault_category("hydraulics", name="Hydraulics")
    rule_services.create_rule(actor=admin, name="Any order")
    start = timezone.now() + dt.timedelta(days=30)
    create_absence(actor=admin, engineer=engineer, kind="leave", starts_at=start, ends_at=start + dt.timedelta(hours=4))
    _seed_money(personas, order)
    _seed_inspection(personas, order)
    _seed_proactive(personas, order)
    _seed_iot(personas, machine)
    return personas, request, order


def _seed_iot(personas, machine) -> None:
    """A device for the machine, an alarm code that opens orders, a threshold rule, and an alarm
    it raised (with its order), so the connected-machine operations find objects too."""
    from fieldservice.iot.services.configuration import create_alarm_mapping, create_threshold_rule
    from fieldservice.iot.services.devices import issue_device
    from fieldservice.iot.services.ingest import Envelope, ingest

    admin = personas.admin
    _device, token = issue_device(actor=admin, name="Press PLC", customer=personas.customer_a, machines=[machine])
    create_alarm_mapping(actor=admin, code="E101")
    create_threshold_rule(actor=admin, name="Hot", metric="temperature", kind="above", value=80.0)
    now = timezone.now().isoformat()
    ingest(
        [
            Envelope(
                "http",
                {
                    "readings": [{"metric": "temperature", "value": 71.5, "unit": "C", "at": now}],
                    "alarms": [{"code": "E101", "state": "raised", "severity": "critical", "at": now}],
                },
                token=token,
            )
        ]
    )


def _seed_proactive(personas, order) -> None:
    """A job template with a step (and an order carrying it), a maintenance plan with a due visit,
    a launched notice campaign with its target, and a running call plan with a touch, so the job
    step and maintenance operations find objects too."""
    from fieldservice.customers.choices import CustomerTier
    from fieldservice.field.services import attach_job_steps, create_job_template
    from fieldservice.maintenance.services import campaigns, care, plans

    admin = personas.admin
    template = create_job_template(
        actor=admin,
        name="Yearly service",
        service_type="repair",
        steps=[{"kind": "number", "title": "Oil temperature", "unit": "°C", "min_value": 20, "max_value": 55}],
    )
    attach_job_steps([order], template)
    plans.create_plan(
        actor=admin,
        name="Every three months",
        scope="machine",
        equipment=order.equipment,
        starts_on=timezone.localdate() - dt.timedelta(days=100),
        interval_months=3,
        lead_days=30,
    )
    plans.generate_due_visits(actor=admin)
    campaign = campaigns.create_campaign(
        actor=admin, title="Hose notice", action="notify", customers=[order.customer_id]
    )
    campaigns.launch_campaign(campaign, actor=admin)
    type(order.customer).objects.filter(pk=order.customer_id).update(tier=CustomerTier.KEY)
    plan = care.create_care_plan(
        actor=admin,
        name="After warranty",
        occasion="warranty_ending",
        method="call",
        target_tiers=[CustomerTier.KEY],
        participants=[admin.pk],
        subject="",
        body="Ask how the machine runs",
        starts_on=timezone.localdate(),
    )
    care.activate_care_plan(plan, actor=admin)
    care.run_care_plan(plan, actor=admin)


def _seed_inspection(personas, order) -> None:
    """A sent inspection of the order's machine with a finding awaiting the customer, so the
    maintenance operations find objects too."""
    from fieldservice.field.models import JobTemplate
    from fieldservice.maintenance.services import inspections

    admin = personas.admin
    template = JobTemplate.objects.create(name="Health check", service_type="inspection")
    inspection = inspections.create_inspection(
        actor=admin,
        customer=order.customer,
        site=order.site,
        equipment=[order.equipment_id],
        template=template,
        owner=admin,
    )
    inspections.send_inspection(inspection, actor=admin)
    inspections.approve_inspection(inspection, follow_token=inspection.follow_token, name="Fuzz")
    inspections.record_finding(
        inspection,
        actor=admin,
        machine=inspection.machines.get().pk,
        severity="low",
        title="Worn hose",
        disposition="change",
        recommendation="Replace it",
    )


def _seed_money(personas, order) -> None:
    """A fee line, a sent quotation, an issued bill with an invoice request, a provider's statement
    with a line, and a settlement rule, so billing's operations find objects too."""
    from decimal import Decimal

    from fieldservice.billing.models import Bill, BillLine, FeeLine, InvoiceRequest, Statement, StatementLine
    from fieldservice.billing.services import quotations, settlement

    admin = personas.admin
    line = FeeLine.objects.create(
        work_order=order,
        kind="service",
        description="Call-out",
        unit_price=Decimal("300"),
        amount=Decimal("300"),
        source="office",
        created_by=admin,
    )
    quotation = quotations.create_quotation(
        order,
        actor=admin,
        lines=[{"kind": "service", "description": "Hydraulic flush", "quantity": "1", "unit_price": "800"}],
        valid_until=timezone.localdate() + dt.timedelta(days=14),
        tax_rate="13",
    )
    quotations.send_quotation(quotation, actor=admin)
    bill = Bill.objects.create(
        number="BL-FUZZ-1",
        work_order=order,
        customer=order.customer,
        status="issued",
        total=Decimal("300"),
        issued_at=timezone.now(),
        due_on=timezone.localdate(),
        created_by=admin,
    )
    BillLine.objects.create(
        bill=bill,
        fee_line=line,
        kind="service",
        description="Call-out",
        quantity=1,
        unit_price=Decimal("300"),
        amount=Decimal("300"),
    )
    InvoiceRequest.objects.create(
        bill=bill, title="Customer A Ltd", tax_number="91330200MA2AAAAA1X", requested_by=admin
    )
    statement = Statement.objects.create(
        number="ST-FUZZ-1",
        party_kind="provider",
        provider=personas.provider,
        party_key=f"p{personas.provider.pk}",
        period_start=timezone.localdate().replace(day=1),
        period_end=timezone.localdate(),
        total=Decimal("120"),
        order_count=1,
    )
    StatementLine.objects.create(
        statement=statement, party_key=statement.party_key, work_order=order, amount=Decimal("120"), breakdown=[]
    )
    settlement.create_rule(actor=admin, name="Per order", basis="per_order", rate="120")


def _ids_by_parameter(personas, request, order) -> dict[str, list[int]]:
    from fieldservice.accounts.models import EngineerProfile, Organisation, ServiceArea
    from fieldservice.assets.models import Equipment, ProductModel
    from fieldservice.billing.models import (
        Bill,
        FeeLine,
        InvoiceRequest,
        Quotation,
        SettlementRule,
        Statement,
        StatementLine,
    )
    from fieldservice.contracts.models import Contract
    from fieldservice.customers.models import Contact, Customer, Site
    from fieldservice.dispatch.models import Assignment, DispatchRule
    from fieldservice.field.models import JobStep, JobTemplate, JobTemplateStep
    from fieldservice.inventory.models import Part
    from fieldservice.iot.models import Alarm, AlarmMapping, Device, ThresholdRule
    from fieldservice.maintenance.models import (
        Campaign,
        CampaignTarget,
        CarePlan,
        CareTouch,
        DueVisit,
        Finding,
        Inspection,
        MaintenancePlan,
    )
    from fieldservice.scheduling.models import Absence

    def pks(model):
        return list(model.objects.order_by("pk").values_list("pk", flat=True)[:5])

    return {
        "customer_id": pks(Customer),
        "contact_id": pks(Contact),
        "site_id": pks(Site),
        "part_id": pks(Part),
        "model_id": pks(ProductModel),
        "equipment_id": pks(Equipment),
        "request_id": [request.pk],
        "order_id": [order.pk],
        "work_order_id": [order.pk],
        "assignment_id": pks(Assignment),
        "contract_id": pks(Contract),
        "engineer_id": pks(EngineerProfile),
        "absence_id": pks(Absence),
        "area_id": pks(ServiceArea),
        "organisation_id": pks(Organisation),
        # billing
        "bill_id": pks(Bill),
        "quotation_id": pks(Quotation),
        "statement_id": pks(Statement),
        "invoice_request_id": pks(InvoiceRequest),
        "line_id": pks(FeeLine) + pks(StatementLine),
        "rule_id": pks(DispatchRule) + pks(SettlementRule) + pks(ThresholdRule),
        # maintenance
        "inspection_id": pks(Inspection),
        "finding_id": pks(Finding),
        "plan_id": pks(MaintenancePlan) + pks(CarePlan),
        "visit_id": pks(DueVisit),
        "campaign_id": pks(Campaign),
        "target_id": pks(CampaignTarget),
        "touch_id": pks(CareTouch),
        "template_id": pks(JobTemplate),
        "step_id": pks(JobStep) + pks(JobTemplateStep),
        # connected machines
        "device_id": pks(Device),
        "mapping_id": pks(AlarmMapping),
        "alarm_id": pks(Alarm),
    }


def _document(ids: dict[str, list[int]]) -> dict:
    """The API's own document, with path ids narrowed to seeded rows and missing ones."""
    document = deepcopy(api.get_openapi_schema())
    document["paths"] = {path: item for path, item in document["paths"].items() if path.startswith(ONLY_PATHS)}
    for methods in document["paths"].values():
        for details in methods.values():
            for parameter in details.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    parameter["schema"] = {"type": "integer", "enum": ids.get(parameter["name"], []) + MISSING_IDS}
    return document


@pytest.fixture
def wsgi_app():
    # As Django's test client does: a request's end must not close the test's connection mid-transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _runner(operation, app, token: str, failures: dict[str, str]):
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as error:  # collected, not raised: no shrinking, every operation runs
            problems = error.exceptions if isinstance(error, FailureGroup) else [error]
            for problem in problems:
                where = f"{case.method} {case.formatted_path}?{case.query or ''}"
                failures.setdefault(
                    f"{operation.label} {problem.title}", f"{problem.title}: {where} -> {response.status_code}"
                )

    return run


def _fuzz(schema, app, token: str) -> tuple[int, list[str]]:
    failures: dict[str, str] = {}
    covered = 0
    for result in schema.get_all_operations():
        _runner(result.ok(), app, token, failures)()
        covered += 1
    return covered, list(failures.values())


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.CUSTOMER])
def test_no_operation_answers_a_server_error_or_breaks_its_schema(seeded, wsgi_app, role, record_property):
    personas, request, order = seeded
    user = personas.admin if role == Role.ADMINISTRATOR else personas.customer_user_a
    _token, plain = create_api_token(user, actor=user, name="fuzz")
    schema = schemathesis.openapi.from_dict(_document(_ids_by_parameter(personas, request, order)))
    covered, failures = _fuzz(schema, wsgi_app, plain)
    # A summary line reaches the end of the run's output, also from an xdist worker (see conftest).
    record_property(
        "summary",
        f"schemathesis as {role}: {covered} operations, {MAX_EXAMPLES} examples each, "
        f"{len(failures)} server errors or schema violations",
    )
    for failure in failures:
        record_property("summary", f"  {failure.splitlines()[0]}")
    assert covered >= (1 if ONLY_PATHS else 100)
    assert failures == []
