"""Pricing an order twice at once (PostgreSQL): the second waits for the order's row lock, so the
lines are written once."""

import time

import pytest

from fieldservice.billing.choices import FeeKind
from fieldservice.billing.models import FeeLine
from fieldservice.billing.services import pricing
from tests.billing.conftest import complete
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_two_pricings_at_once_write_the_lines_once(prices, monkeypatch):
    p = prices
    order = complete(p)
    FeeLine.objects.filter(work_order=order).delete()
    price = pricing._price

    def slow_price(orders, actor):
        time.sleep(0.3)  # both callers are past their reads by now, unless one waited for the lock
        return price(orders, actor)

    monkeypatch.setattr(pricing, "_price", slow_price)
    began = time.perf_counter()
    outcomes = run_concurrently(
        lambda: pricing.price_order(order, actor=p.agent), lambda: pricing.price_order(order, actor=p.director)
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert time.perf_counter() - began >= 0.55, "the second pricing did not wait for the first's lock"
    assert FeeLine.objects.filter(work_order=order, kind=FeeKind.LABOUR).count() == 1
    assert FeeLine.objects.filter(work_order=order, kind=FeeKind.PART).count() == 2
