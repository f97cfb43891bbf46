"""The demo's inspections, seeded through the services on the test personas."""

import random

from fieldservice.accounts.models import ServiceArea
from fieldservice.maintenance import demo_inspections
from fieldservice.maintenance.models import Finding
from fieldservice.maintenance.models.inspections import ChangeDecision, InspectionStatus
from fieldservice.maintenance.selectors.inspections import machines_of
from tests import factories


def test_the_demo_leaves_one_inspection_in_progress_and_one_closed(world):
    p = world.p
    # The engineer's service area covers the test sites (their coordinates are in Ningbo).
    ningbo = ServiceArea.objects.create(name="Ningbo", polygon=[[121, 29], [122, 29], [122, 30], [121, 30]])
    world.engineer.engineer_profile.areas.add(ningbo)
    # A second site with two machines.
    site = factories.site(p.customer_z, actor=p.admin)
    for _ in range(2):
        factories.equipment(p.customer_z, actor=p.admin, site=site)
    running, closed = demo_inspections.seed(rng=random.Random(1), dispatcher=p.dispatcher, engineer=world.engineer)
    running.refresh_from_db()
    closed.refresh_from_db()
    assert running.status == InspectionStatus.IN_PROGRESS
    assert closed.status == InspectionStatus.CLOSED and closed.confirmed_by_name
    assert set(Finding.objects.filter(inspection=running).values_list("disposition", flat=True)) == {
        "fixed",
        "recommendation",
        "change",
        "repair",
    }
    assert Finding.objects.get(inspection=running, disposition="change").change_decision == ChangeDecision.PENDING
    assert Finding.objects.get(inspection=running, disposition="repair").repair_order is not None
    checked = [line.checked for line in machines_of(running)]
    assert checked[:2] == [True, True] and not all(checked[2:] or [False])
    assert [n for n, _ in demo_inspections.counts()] == ["inspections"]
    assert len(demo_inspections.walkthrough()) == 2
    assert list(running.engineers.all()) == [world.engineer]
