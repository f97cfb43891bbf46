"""Two accepts of one assignment at the same moment (a double tap, two devices) on PostgreSQL:
one wins, the other gets a clear DomainError, and the order is accepted exactly once."""

import pytest

from fieldservice.accounts.models import User
from fieldservice.core.errors import DomainError
from fieldservice.dispatch.assignments.services import accept_assignment, dispatch_to_engineer
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from tests import factories
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(20))
def test_two_simultaneous_accepts_leave_one_winner(attempt):
    root = factories.system_user()
    engineer = factories.engineer(factories.own_company())
    order = factories.work_order(actor=root)
    assignment = dispatch_to_engineer(order, actor=root, engineer=engineer)

    def accept():
        # Each thread loads its own objects, as two requests would.
        return accept_assignment(Assignment.objects.get(pk=assignment.pk), actor=User.objects.get(pk=engineer.pk))

    outcomes = run_concurrently(accept, accept)
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, DomainError) and error.code == "already_answered"
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ACCEPTED
    assert WorkOrder.objects.get(pk=order.pk).status == WorkOrderStatus.ACCEPTED
    assert WorkOrderEvent.objects.filter(work_order=order, action="accept").count() == 1
