"""Two dispatchers move the same visit at the same moment (two boards open) on PostgreSQL: one
move wins, the other is told the visit changed, and the visit carries exactly the winner's change."""

import pytest

from fieldservice.core.errors import DomainError
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.scheduling import services
from fieldservice.scheduling.models import Visit
from tests.concurrency import run_concurrently
from tests.scheduling.conftest import at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(3))
def test_two_moves_of_one_visit_leave_one_winner(world, attempt):
    visit = services.schedule_visit(
        world.order, actor=world.dispatcher, planned_start=at(world.monday, "09:00"), duration_minutes=60
    )
    targets = {"later": (world.engineer, "14:00"), "other": (world.second, "10:00")}

    def move(name):
        engineer, start = targets[name]
        return lambda: services.move_visit(
            Visit.objects.get(pk=visit.pk),
            actor=world.dispatcher,
            engineer=engineer,
            planned_start=at(world.monday, start),
            version=visit.version,
        )

    outcomes = run_concurrently(move("later"), move("other"))
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, DomainError) and error.code == "stale"
    winner = next(name for (kind, _), name in zip(outcomes, targets, strict=True) if kind == "ok")

    visit.refresh_from_db()
    engineer, start = targets[winner]
    assert (visit.engineer, visit.planned_start, visit.version) == (engineer, at(world.monday, start), 2)
    leads = list(
        world.order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).values_list(
            "engineer_id", flat=True
        )
    )
    assert leads == [engineer.pk]
