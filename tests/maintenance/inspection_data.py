"""Data of the inspection tests: a site of customer A with two machines (and one at another site),
a health-check template with steps, and an inspection built through the services."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from fieldservice.core.choices import ServiceType
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.field.models import JobTemplate, JobTemplateStep
from fieldservice.maintenance.services import inspections as services
from tests import factories


def health_check(layout=ReportLayout.CHECKLIST, service_type=ServiceType.INSPECTION) -> JobTemplate:
    template = JobTemplate.objects.create(name="Health check", service_type=service_type, report_layout=layout)
    JobTemplateStep.objects.create(template=template, position=1, kind=StepKind.YES_NO, title="Guards in place")
    JobTemplateStep.objects.create(
        template=template,
        position=2,
        kind=StepKind.NUMBER,
        title="Oil temperature",
        unit="°C",
        min_value=Decimal("20"),
        max_value=Decimal("55"),
    )
    return template


@pytest.fixture
def world(personas):
    p = personas
    site = factories.site(p.customer_a, actor=p.admin, name="Plant 1")
    other_site = factories.site(p.customer_a, actor=p.admin, name="Plant 2")
    machines = [factories.equipment(p.customer_a, actor=p.admin, site=site) for _ in range(2)]
    elsewhere = factories.equipment(p.customer_a, actor=p.admin, site=other_site)
    site_z = factories.site(p.customer_z, actor=p.admin, name="Z plant")
    machine_z = factories.equipment(p.customer_z, actor=p.admin, site=site_z)
    engineer = factories.engineer(p.own)
    return SimpleNamespace(
        p=p,
        site=site,
        other_site=other_site,
        machines=machines,
        elsewhere=elsewhere,
        site_z=site_z,
        machine_z=machine_z,
        template=health_check(),
        engineer=engineer,
    )


def start(world, **fields):
    fields.setdefault("engineers", [world.engineer])
    fields.setdefault("owner", world.p.dispatcher)
    return services.create_inspection(
        actor=world.p.dispatcher,
        customer=world.p.customer_a,
        site=world.site,
        equipment=[m.pk for m in world.machines],
        template=world.template,
        **fields,
    )


def approved(world, **fields):
    inspection = start(world, **fields)
    services.send_inspection(inspection, actor=world.p.dispatcher)
    services.approve_inspection(inspection, follow_token=inspection.follow_token, name="Ms Wang")
    inspection.refresh_from_db()
    return inspection
