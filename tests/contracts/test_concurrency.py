"""Two activations covering one machine at once (PostgreSQL): the machines' rows are locked, so
exactly one wins and the other gets a field error naming the winner."""

import pytest
from django.core.exceptions import ValidationError

from fieldservice.contracts import services
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract
from fieldservice.sla.models import BusinessCalendar, SlaPolicy
from tests import factories
from tests.concurrency import run_concurrently
from tests.contracts.conftest import days

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def overlapping_drafts(count: int):
    """Drafts on one machine with overlapping periods, as an import or the admin could leave
    them (the services refuse to write them)."""
    admin = factories.system_user()
    customer = factories.customer(actor=admin)
    machine = factories.equipment(customer, actor=admin)
    calendar = BusinessCalendar.objects.create(name=f"Race calendar {factories.seq()}")
    policy = SlaPolicy.objects.create(code=f"race-{factories.seq()}", name="Race", calendar=calendar)
    drafts = []
    for index in range(count):
        draft = Contract.objects.create(
            number=f"SC-RACE-{factories.seq()}",
            customer=customer,
            sla_policy=policy,
            starts_on=days(index),
            ends_on=days(100 + index),
        )
        draft.equipment.set([machine])
        drafts.append(draft)
    return admin, drafts


@pytest.mark.parametrize("attempt", range(3))
def test_two_activations_on_one_machine_leave_one_active(attempt):
    admin, drafts = overlapping_drafts(2)
    outcomes = run_concurrently(*[lambda d=d: services.activate_contract(d, actor=admin) for d in drafts])
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], outcomes
    error = next(value for kind, value in outcomes if kind == "error")
    winner = next(value for kind, value in outcomes if kind == "ok")
    assert isinstance(error, ValidationError) and "equipment" in error.error_dict
    assert winner.number in error.error_dict["equipment"][0].message
    assert Contract.objects.filter(status=ContractStatus.ACTIVE).count() == 1


def test_two_drafts_on_one_machine_at_once_leave_one():
    admin = factories.system_user()
    customer = factories.customer(actor=admin)
    machine = factories.equipment(customer, actor=admin)
    calendar = BusinessCalendar.objects.create(name="Race calendar drafts")
    policy = SlaPolicy.objects.create(code="race-drafts", name="Race", calendar=calendar)

    def create():
        return services.create_contract(
            actor=admin, customer=customer, equipment=[machine], starts_on=days(0), ends_on=days(30), sla_policy=policy
        )

    outcomes = run_concurrently(create, create, create)
    assert sorted(kind for kind, _ in outcomes) == ["error", "error", "ok"], outcomes
    assert Contract.objects.filter(customer=customer).count() == 1
    numbers = [value.number for kind, value in outcomes if kind == "ok"]
    assert len(numbers) == 1
