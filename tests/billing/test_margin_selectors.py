"""Cost and margin added up: per order with its filters, per contract (its fee earned over the
period), per customer, per engineer; and who may see any of it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from fieldservice.accounts.models import User
from fieldservice.billing import selectors
from fieldservice.billing.models import OrderMargin
from fieldservice.contracts.models import Contract
from tests import factories
from tests.billing.margin_data import fee, figures  # noqa: F401 (the fixture)

D = Decimal


def by_pk(rows):
    return {row.pk: row for row in rows}


def test_orders_filter_by_days_customer_contract_and_engineer(figures):  # noqa: F811
    p = figures
    director = p.director
    every = selectors.order_margins_for(director)
    assert {m.work_order_id for m in every} == {p.order.pk, p.contract_order.pk, p.z_order.pk}

    april = selectors.order_margins_for(director, date_from=p.day(4, 1), date_to=p.day(4, 30))
    assert [m.work_order_id for m in april] == [p.contract_order.pk]
    # Both ends are included.
    edges = selectors.order_margins_for(director, date_from=p.day(3, 10), date_to=p.day(4, 5))
    assert {m.work_order_id for m in edges} == {p.order.pk, p.contract_order.pk}
    assert [m.work_order_id for m in selectors.order_margins_for(director, customer=p.customer_z.pk)] == [p.z_order.pk]
    assert [m.work_order_id for m in selectors.order_margins_for(director, contract=p.contract.pk)] == [
        p.contract_order.pk
    ]
    assert [m.work_order_id for m in selectors.order_margins_for(director, engineer=p.engineer.pk)] == [p.order.pk]
    assert [m.work_order_id for m in selectors.order_margins_for(director, p.z_order.number)] == [p.z_order.pk]
    assert [m.work_order_id for m in selectors.order_margins_for(director, "Customer Z")] == [p.z_order.pk]

    row = selectors.get_order_margin_for(director, p.order.pk)
    assert (row.revenue, row.cost, row.margin) == (D("1700.00"), D("880.00"), D("820.00"))
    assert row.margin_percent == D("48.2")


def test_order_totals_add_up_the_filtered_orders(figures):  # noqa: F811
    p = figures
    (total,) = selectors.totals_of_orders(selectors.order_margins_for(p.director, customer=p.customer_cn.pk))
    assert (total.orders, total.revenue, total.cost, total.margin) == (2, D("1900.00"), D("1230.00"), D("670.00"))


def test_a_contract_earns_its_whole_fee_without_a_period(figures):  # noqa: F811
    p = figures
    (row,) = selectors.contract_margins_for(p.director)
    assert row.pk == p.contract.pk
    assert row.fee == p.contract.annual_fee == D(10 * p.term_days)
    assert (row.orders, row.revenue, row.cost) == (1, D("200.00"), D("350.00"))
    assert row.margin == row.fee + D("200.00") - D("350.00")
    assert row.margin_percent == (row.margin * 100 / (row.fee + 200)).quantize(D("0.1"))


def test_a_contract_earns_its_fee_by_the_days_of_the_period(figures):  # noqa: F811
    p = figures
    (april,) = selectors.contract_margins_for(p.director, date_from=p.day(4, 1), date_to=p.day(4, 30))
    assert april.fee == D("300.00")
    assert (april.orders, april.revenue, april.cost, april.margin) == (1, D("200.00"), D("350.00"), D("150.00"))

    (may,) = selectors.contract_margins_for(p.director, date_from=p.day(5, 1), date_to=p.day(5, 31))
    assert (may.fee, may.orders, may.margin) == (D("310.00"), 0, D("310.00"))

    # A period reaching past the term counts only the term's days.
    (late,) = selectors.contract_margins_for(p.director, date_from=p.day(12, 30), date_to=dt.date(p.year + 1, 1, 31))
    assert late.fee == D("20.00")
    # A period outside the term (and without its orders) lists no contract.
    assert selectors.contract_margins_for(p.director, date_from=dt.date(p.year + 1, 1, 1)) == []


def test_contract_fee_proration_rounds_to_the_cent(figures):  # noqa: F811
    p = figures
    Contract.objects.filter(pk=p.contract.pk).update(annual_fee=D("1000.00"))
    p.contract.refresh_from_db()
    fee_of_a_day = selectors.contract_fee_in(p.contract, p.day(2, 1), p.day(2, 1))
    assert fee_of_a_day == (D("1000.00") / p.term_days).quantize(D("0.01"))
    assert selectors.contract_fee_in(p.contract) == D("1000.00")


def test_a_draft_contract_earns_nothing_and_is_not_listed(figures):  # noqa: F811
    p = figures
    draft = factories.contract(p.customer_z, actor=p.admin, annual_fee=D("5000.00"))
    assert selectors.contract_fee_in(draft) == D("0")
    assert draft.pk not in by_pk(selectors.contract_margins_for(p.director))
    z = by_pk(selectors.customer_margins_for(p.director))[p.customer_z.pk]
    assert z.fee == D("0")


def test_customers_add_their_orders_and_their_contracts_fees(figures):  # noqa: F811
    p = figures
    rows = by_pk(selectors.customer_margins_for(p.director))
    cn, z = rows[p.customer_cn.pk], rows[p.customer_z.pk]
    assert (cn.orders, cn.revenue, cn.fee, cn.cost) == (2, D("1900.00"), D(10 * p.term_days), D("1230.00"))
    assert cn.margin == cn.fee + D("1900.00") - D("1230.00")
    assert (z.orders, z.revenue, z.fee, z.cost, z.margin, z.margin_percent) == (
        1,
        D("300.00"),
        D("0"),
        D("100.00"),
        D("200.00"),
        D("66.7"),
    )
    # Customers without orders or fees are not listed.
    assert p.customer_a.pk not in rows

    march = by_pk(selectors.customer_margins_for(p.director, date_from=p.day(3, 1), date_to=p.day(3, 31)))
    assert set(march) == {p.customer_cn.pk}
    assert (march[p.customer_cn.pk].revenue, march[p.customer_cn.pk].fee) == (D("1700.00"), D("310.00"))
    assert march[p.customer_cn.pk].margin == D("1700.00") + D("310.00") - D("880.00")

    assert set(by_pk(selectors.customer_margins_for(p.director, text="Customer Z"))) == {p.customer_z.pk}


def test_engineers_add_up_the_orders_they_led(figures):  # noqa: F811
    p = figures
    rows = by_pk(selectors.engineer_margins_for(p.director))
    # The Z order has no engineer: it is in no engineer's row.
    assert set(rows) == {p.engineer.pk, p.other_engineer.pk}
    assert (rows[p.engineer.pk].orders, rows[p.engineer.pk].margin) == (1, D("820.00"))
    assert (rows[p.other_engineer.pk].revenue, rows[p.other_engineer.pk].margin) == (D("200.00"), D("-150.00"))
    assert rows[p.other_engineer.pk].margin_percent == D("-75.0")
    assert set(by_pk(selectors.engineer_margins_for(p.director, date_from=p.day(4, 1)))) == {p.other_engineer.pk}
    assert set(by_pk(selectors.engineer_margins_for(p.director, text="other_eng"))) == {p.other_engineer.pk}
    User.objects.filter(pk=p.engineer.pk).update(display_name="张工")
    assert set(by_pk(selectors.engineer_margins_for(p.director, text="张"))) == {p.engineer.pk}


def test_two_currencies_make_two_rows(figures):  # noqa: F811
    p = figures
    order = factories.work_order(p.customer_z, actor=p.agent)
    line = fee(order, "labour", "50.00", "10.00")
    line.currency = "USD"
    line.save()
    from fieldservice.billing.services import margins

    margins.refresh([order.pk])
    rows = [row for row in selectors.customer_margins_for(p.director) if row.pk == p.customer_z.pk]
    assert sorted((row.currency, row.revenue) for row in rows) == [("CNY", D("300.00")), ("USD", D("50.00"))]
    totals = selectors.totals_of(rows)
    assert [(t.currency, t.revenue) for t in totals] == [("CNY", D("300.00")), ("USD", D("50.00"))]


@pytest.mark.parametrize(
    "who", ["customer_user_a", "customer_user_z", "provider_admin", "provider_engineer", "engineer", "dispatcher"]
)
def test_nobody_outside_the_back_office_sees_a_figure(figures, who):  # noqa: F811
    p = figures
    actor = getattr(p, who)
    assert not selectors.margins_for(actor).exists()
    assert selectors.contract_margins_for(actor) == []
    assert selectors.customer_margins_for(actor) == []
    assert selectors.engineer_margins_for(actor) == []
    assert selectors.margin_of_order(actor, p.order) is None
    assert not selectors.margin_engineers_for(actor).exists()
    with pytest.raises(Http404):
        selectors.get_order_margin_for(actor, p.order.pk)


@pytest.mark.parametrize("who", ["agent", "director", "admin"])
def test_the_back_office_sees_them(figures, who):  # noqa: F811
    p = figures
    actor = getattr(p, who)
    assert selectors.margins_for(actor).count() == 3
    assert selectors.margin_of_order(actor, p.order).margin == D("820.00")


def test_the_order_page_figures_before_any_row_was_kept(figures):  # noqa: F811
    p = figures
    OrderMargin.objects.filter(work_order=p.order).delete()
    margin = selectors.margin_of_order(p.director, p.order)
    assert margin.margin == D("820.00")
    assert not OrderMargin.objects.filter(work_order=p.order).exists(), "showing a page writes nothing"
