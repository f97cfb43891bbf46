"""Two generations of the same month at the same moment (PostgreSQL): each order is counted once,
one statement per party, and the totals are their lines'."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from fieldservice.billing.models import Statement, StatementLine
from fieldservice.billing.services import settlement as svc
from tests.billing.settlement_data import MARCH, closed_order
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_two_generations_at_once_count_each_order_once(personas):
    director = personas.director
    svc.create_rule(actor=director, name="Per order", basis="per_order", rate="50")
    svc.create_rule(actor=director, name="Provider", basis="per_order", rate="80", provider=personas.provider)
    orders = [closed_order(engineer=personas.engineer, on=dt.date(2026, 3, 1 + n)) for n in range(4)]
    orders += [closed_order(provider=personas.provider, on=dt.date(2026, 3, 10 + n)) for n in range(4)]

    def generate():
        return svc.generate_statements(actor=director, period_start=MARCH[0], period_end=MARCH[1])

    outcomes = run_concurrently(generate, generate, generate)
    assert [kind for kind, _value in outcomes] == ["ok", "ok", "ok"], outcomes
    placed = sorted(value.orders_placed for _kind, value in outcomes)
    assert placed == [0, 0, 8]
    per_order = dict(StatementLine.objects.filter(kind="order").values_list("work_order_id").annotate(n=Count("pk")))
    assert per_order == {order.pk: 1 for order in orders}
    assert Statement.objects.count() == 2
    for statement in Statement.objects.annotate(lines_total=Sum("lines__amount")):
        assert statement.total == statement.lines_total
    assert Statement.objects.get(provider=personas.provider).total == Decimal("320")

    # And once more at the same moment, after the fact: nothing is added.
    outcomes = run_concurrently(generate, generate)
    assert [value.orders_placed for _kind, value in outcomes] == [0, 0]
    assert StatementLine.objects.count() == 8
    assert Statement.objects.count() == 2
