"""API of cost and margin (/api/v1/billing/margins/...): the figures, the filters, the bad
periods, and every outsider refused."""

from decimal import Decimal

import pytest

from tests.billing.margin_data import figures  # noqa: F401 (the fixture)

D = Decimal
BASE = "/api/v1/billing/margins"
LISTS = ["/orders", "/contracts", "/customers", "/engineers"]


def items(response):
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_order_margins_with_their_figures_and_filters(figures, api_client_for):  # noqa: F811
    p = figures
    client = api_client_for(p.director)
    rows = {row["work_order"]: row for row in items(client.get(f"{BASE}/orders"))}
    assert set(rows) == {p.order.pk, p.contract_order.pk, p.z_order.pk}
    first = rows[p.order.pk]
    assert first["work_order_number"] == p.order.number
    assert first["booked_on"] == p.day(3, 10).isoformat()
    assert (D(first["revenue"]), D(first["parts_cost"]), D(first["labour_cost"])) == (D(1700), D(700), D(180))
    assert (D(first["cost"]), D(first["margin"]), D(first["margin_percent"])) == (D(880), D(820), D("48.2"))
    assert first["engineer"] == p.engineer.pk and first["provider"] is None and first["currency"] == "CNY"
    assert rows[p.contract_order.pk]["contract"] == p.contract.pk

    april = items(client.get(f"{BASE}/orders", {"date_from": p.day(4, 1), "date_to": p.day(4, 30)}))
    assert [row["work_order"] for row in april] == [p.contract_order.pk]
    assert [row["work_order"] for row in items(client.get(f"{BASE}/orders", {"customer": p.customer_z.pk}))] == [
        p.z_order.pk
    ]
    assert [row["work_order"] for row in items(client.get(f"{BASE}/orders", {"engineer": p.other_engineer.pk}))] == [
        p.contract_order.pk
    ]
    assert [row["work_order"] for row in items(client.get(f"{BASE}/orders", {"contract": p.contract.pk}))] == [
        p.contract_order.pk
    ]

    one = client.get(f"{BASE}/orders/{p.z_order.pk}")
    assert one.status_code == 200 and D(one.json()["margin"]) == D(200)
    assert client.get(f"{BASE}/orders/999999").status_code == 404


def test_aggregates_per_contract_customer_and_engineer(figures, api_client_for):  # noqa: F811
    p = figures
    client = api_client_for(p.agent)
    april = {"date_from": p.day(4, 1), "date_to": p.day(4, 30)}
    (contract,) = items(client.get(f"{BASE}/contracts", april))
    assert contract["id"] == p.contract.pk and contract["customer"] == p.customer_cn.pk
    assert (D(contract["fee"]), D(contract["revenue"]), D(contract["total_revenue"])) == (D(300), D(200), D(500))
    assert (D(contract["cost"]), D(contract["margin"]), D(contract["margin_percent"])) == (D(350), D(150), D(30))

    (whole,) = client.get(f"{BASE}/contracts/{p.contract.pk}").json()
    assert D(whole["fee"]) == D(10 * p.term_days)
    assert client.get(f"{BASE}/contracts/999999").status_code == 404

    customers = {row["id"]: row for row in items(client.get(f"{BASE}/customers"))}
    assert D(customers[p.customer_z.pk]["margin"]) == D(200)
    assert D(customers[p.customer_cn.pk]["fee"]) == D(10 * p.term_days)
    assert [row["id"] for row in items(client.get(f"{BASE}/customers", {"q": "Customer Z"}))] == [p.customer_z.pk]

    engineers = {row["id"]: row for row in items(client.get(f"{BASE}/engineers"))}
    assert set(engineers) == {p.engineer.pk, p.other_engineer.pk}
    assert D(engineers[p.other_engineer.pk]["margin"]) == D(-150)
    assert engineers[p.engineer.pk]["orders"] == 1


@pytest.mark.parametrize("path", LISTS)
def test_a_period_ending_before_it_starts_is_a_422_naming_the_field(figures, api_client_for, path):  # noqa: F811
    p = figures
    response = api_client_for(p.director).get(f"{BASE}{path}", {"date_from": p.day(5, 1), "date_to": p.day(4, 1)})
    assert response.status_code == 422
    assert "date_to" in response.json()["detail"][0]["loc"]


@pytest.mark.parametrize("path", LISTS)
def test_a_date_out_of_range_is_a_422(figures, api_client_for, path):  # noqa: F811
    response = api_client_for(figures.director).get(f"{BASE}{path}", {"date_from": "0001-01-01"})
    assert response.status_code == 422
    assert "date_from" in response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    "who", ["customer_user_a", "customer_user_z", "provider_admin", "provider_engineer", "engineer", "dispatcher"]
)
def test_outsiders_are_refused_every_endpoint(figures, api_client_for, who):  # noqa: F811
    p = figures
    client = api_client_for(getattr(p, who))
    for path in [*LISTS, f"/orders/{p.order.pk}", f"/contracts/{p.contract.pk}"]:
        response = client.get(f"{BASE}{path}")
        assert response.status_code == 403, path
        assert "820" not in response.content.decode()
