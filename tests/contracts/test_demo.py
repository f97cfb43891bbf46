"""The demo contracts: made through the services over existing customers and machines."""

import random

from django.utils import timezone

from fieldservice.contracts import demo
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract, PriceList
from tests import factories
from tests.contracts.conftest import days


def test_seed_makes_active_expiring_extended_and_draft_contracts(world):
    for index in range(5):
        customer = factories.customer(name=f"Demo customer {index}")
        for number in range(3):
            factories.equipment(customer, serial_number=f"D{index}-{number}", warranty_ends_on=days(-1 - number))
    made = demo.seed(rng=random.Random(7), now=timezone.now())
    assert len(made) >= 6
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert statuses == {ContractStatus.ACTIVE, ContractStatus.EXPIRED, ContractStatus.DRAFT}
    assert Contract.objects.filter(status=ContractStatus.ACTIVE, ends_on__lte=days(30)).exists()
    extension = Contract.objects.get(previous__isnull=False)
    assert extension.status == ContractStatus.ACTIVE and extension.previous.status == ContractStatus.EXPIRED
    assert PriceList.objects.get(is_default=True).items.count() >= 2
    # Every machine is under at most one live contract.
    for contract in Contract.objects.filter(status=ContractStatus.ACTIVE):
        for machine in contract.equipment.all():
            assert machine.customer_id == contract.customer_id
            assert machine.contracts.filter(status=ContractStatus.ACTIVE).count() == 1


def test_seed_without_sla_policies_makes_nothing(personas):
    from fieldservice.sla.models import SlaPolicy

    SlaPolicy.objects.all().delete()
    assert demo.seed(rng=random.Random(1), now=timezone.now()) == []
    assert not Contract.objects.exists()
