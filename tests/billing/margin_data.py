"""Orders with figures for the cost and margin tests (selectors, pages, API), on top of `visit`:

- the visit's order (宁波, led by our engineer), booked on 10 March: revenue 1,700, cost 880;
- a contract of the same customer over this whole year, fee ¥10 a day, and an order under it
  (led by the other engineer) booked on 5 April: a covered part (800 price, 300 cost) and
  chargeable labour (200 price, 50 cost): revenue 200, cost 350;
- an order of customer Z, no contract and no engineer, booked on 1 May: revenue 300, cost 100.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fieldservice.billing.choices import FeeKind, FeeSource, Payer
from fieldservice.billing.models import FeeLine
from fieldservice.billing.services import margins
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.workorders.models import WorkOrder
from tests import factories

D = Decimal


def fee(order, kind, amount, cost, *, payer=Payer.CUSTOMER, part=None):
    return FeeLine.objects.create(
        work_order=order,
        kind=kind,
        description=f"{kind} line",
        part=part,
        amount=D(amount),
        unit_price=D(amount),
        cost=D(cost),
        unit_cost=D(cost),
        payer=payer,
        source=FeeSource.OFFICE,
    )


def book(order, day: dt.date):
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(15, 0)))
    WorkOrder.objects.filter(pk=order.pk).update(closed_at=moment)


@pytest.fixture
def figures(visit):
    p = visit
    year = timezone.localdate().year
    p.year = year
    p.day = lambda month, day: dt.date(year, month, day)
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    p.term_days = (end - start).days + 1
    p.contract = factories.contract(
        p.customer_cn,
        machines=[p.other_machine],
        actor=p.admin,
        activate=True,
        starts_on=start,
        ends_on=end,
        annual_fee=D(10 * p.term_days),
    )

    fee(p.order, FeeKind.LABOUR, "500.00", "180.00")
    fee(p.order, FeeKind.PART, "1200.00", "700.00", part=p.motor)
    book(p.order, p.day(3, 10))

    p.contract_order = factories.work_order(p.customer_cn, actor=p.agent, equipment=p.other_machine)
    assert p.contract_order.contract_id == p.contract.pk
    dispatch_to_engineer(p.contract_order, actor=p.dispatcher, engineer=p.other_engineer)
    fee(p.contract_order, FeeKind.PART, "800.00", "300.00", payer=Payer.CONTRACT, part=p.seal)
    fee(p.contract_order, FeeKind.LABOUR, "200.00", "50.00")
    book(p.contract_order, p.day(4, 5))

    p.z_order = factories.work_order(p.customer_z, actor=p.agent)
    fee(p.z_order, FeeKind.LABOUR, "300.00", "100.00")
    book(p.z_order, p.day(5, 1))

    margins.refresh([p.order.pk, p.contract_order.pk, p.z_order.pk])
    for order in (p.order, p.contract_order, p.z_order):
        order.refresh_from_db()
    return p
