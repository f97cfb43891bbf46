"""Pages of cost and margin: the four lists with their filters, totals, empty states and Excel
exports; the panels on the work order, contract and customer pages; and everyone else kept out."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import UserRole
from fieldservice.billing.models import OrderMargin
from tests import factories
from tests.billing.margin_data import figures  # noqa: F401 (the fixture)

D = Decimal
TABS = ["billing:margin_orders", "billing:margin_contracts", "billing:margin_customers", "billing:margin_engineers"]


def sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_the_order_list_shows_each_order_and_the_totals(figures, client_for):  # noqa: F811
    p = figures
    page = client_for(p.director).get(reverse("billing:margin_orders")).content.decode()
    for order in (p.order, p.contract_order, p.z_order):
        assert f'id="margin-{order.pk}"' in page
        assert order.number in page
    assert "¥1,700.00" in page and "¥820.00" in page and "48.2 %" in page
    assert "−¥150.00" in page  # the contract order loses money
    assert 'id="margin-totals"' in page
    assert "¥2,200.00" in page  # revenue of the three orders


def test_the_order_list_filters_by_days_customer_and_search(figures, client_for):  # noqa: F811
    p = figures
    client = client_for(p.agent)
    april = client.get(
        reverse("billing:margin_orders"), {"date_from": p.day(4, 1).isoformat(), "date_to": p.day(4, 30).isoformat()}
    ).content.decode()
    assert f'id="margin-{p.contract_order.pk}"' in april
    assert f'id="margin-{p.order.pk}"' not in april and f'id="margin-{p.z_order.pk}"' not in april

    z = client.get(reverse("billing:margin_orders"), {"customer": p.customer_z.pk}).content.decode()
    assert f'id="margin-{p.z_order.pk}"' in z and f'id="margin-{p.order.pk}"' not in z

    found = client.get(reverse("billing:margin_orders"), {"q": p.order.number}).content.decode()
    assert f'id="margin-{p.order.pk}"' in found and f'id="margin-{p.z_order.pk}"' not in found

    nothing = client.get(reverse("billing:margin_orders"), {"q": "no-such-order"}).content.decode()
    assert "No order matches these filters." in nothing

    # A date that does not parse is left out, not a failure.
    assert client.get(reverse("billing:margin_orders"), {"date_from": "31/02/2026"}).status_code == 200


def test_the_order_export_has_every_figure_column(figures, client_for):  # noqa: F811
    p = figures
    header, rows = sheet(client_for(p.director).get(reverse("billing:margin_orders"), {"export": "xlsx"}))
    assert list(header) == [
        "Work order",
        "Date",
        "Customer",
        "Contract",
        "Engineer",
        "Service provider",
        "Revenue",
        "Parts cost",
        "Labour cost",
        "Travel cost",
        "Other costs",
        "Settlement",
        "Cost",
        "Margin",
        "Margin %",
        "Currency",
    ]
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first = by_number[p.order.number]
    assert (first["Revenue"], first["Labour cost"], first["Parts cost"], first["Margin"]) == (1700, 180, 700, 820)
    assert first["Currency"] == "CNY" and first["Customer"] == p.customer_cn.name
    assert by_number[p.contract_order.number]["Contract"] == p.contract.number
    assert set(by_number) == {p.order.number, p.contract_order.number, p.z_order.number}


def test_the_export_follows_the_filters(figures, client_for):  # noqa: F811
    p = figures
    _header, rows = sheet(
        client_for(p.director).get(reverse("billing:margin_orders"), {"export": "xlsx", "customer": p.customer_z.pk})
    )
    assert [row[0] for row in rows] == [p.z_order.number]


def test_the_contract_list_and_its_export(figures, client_for):  # noqa: F811
    p = figures
    client = client_for(p.director)
    april = {"date_from": p.day(4, 1).isoformat(), "date_to": p.day(4, 30).isoformat()}
    page = client.get(reverse("billing:margin_contracts"), april).content.decode()
    assert p.contract.number in page and "¥300.00" in page  # the fee of April's 30 days
    # The tabs keep the period.
    assert f"{reverse('billing:margin_customers')}?date_from={p.day(4, 1).isoformat()}" in page

    header, rows = sheet(client.get(reverse("billing:margin_contracts"), {**april, "export": "xlsx"}))
    assert list(header) == [
        "Contract",
        "Customer",
        "Start",
        "End",
        "Status",
        "Contract fee in the period",
        "Orders",
        "Order revenue",
        "Cost",
        "Margin",
        "Margin %",
        "Currency",
    ]
    (row,) = rows
    row = dict(zip(header, row, strict=True))
    assert (row["Contract"], row["Contract fee in the period"], row["Orders"], row["Cost"], row["Margin"]) == (
        p.contract.number,
        300,
        1,
        350,
        150,
    )


def test_the_customer_and_engineer_lists_and_exports(figures, client_for):  # noqa: F811
    p = figures
    client = client_for(p.director)
    page = client.get(reverse("billing:margin_customers")).content.decode()
    assert p.customer_cn.name in page and "Customer Z" in page
    header, rows = sheet(client.get(reverse("billing:margin_customers"), {"export": "xlsx", "q": "Customer Z"}))
    assert list(header) == [
        "Customer",
        "Contract fees in the period",
        "Orders",
        "Order revenue",
        "Cost",
        "Margin",
        "Margin %",
        "Currency",
    ]
    assert [row[:6] for row in rows] == [("Customer Z", 0, 1, 300, 100, 200)]

    page = client.get(reverse("billing:margin_engineers")).content.decode()
    assert str(p.engineer) in page and str(p.other_engineer) in page
    header, rows = sheet(client.get(reverse("billing:margin_engineers"), {"export": "xlsx"}))
    assert list(header) == [
        "Engineer",
        "Organisation",
        "Orders",
        "Order revenue",
        "Cost",
        "Margin",
        "Margin %",
        "Currency",
    ]
    assert {row[0]: row[5] for row in rows} == {str(p.engineer): 820, str(p.other_engineer): -150}


@pytest.mark.parametrize("url", TABS)
def test_empty_lists_say_so(personas, client_for, url):
    page = client_for(personas.director).get(reverse(url))
    assert page.status_code == 200
    assert '<p class="empty">' in page.content.decode()


@pytest.mark.parametrize("url", TABS)
@pytest.mark.parametrize(
    "who", ["customer_user_a", "customer_user_z", "provider_admin", "provider_engineer", "engineer", "dispatcher"]
)
def test_outsiders_get_403_and_no_figure(figures, client_for, url, who):  # noqa: F811
    p = figures
    client = client_for(getattr(p, who))
    for params in ({}, {"export": "xlsx"}):
        response = client.get(reverse(url), params)
        assert response.status_code == 403
        assert "¥820.00" not in response.content.decode(errors="replace")


def test_a_provider_user_given_a_desk_role_by_hand_is_still_kept_out(figures, client_for):  # noqa: F811
    p = figures
    # The services refuse a desk role for a provider's user; the rule holds even if one slipped in.
    UserRole.objects.create(user=p.provider_admin, role=Role.DIRECTOR)
    client = client_for(p.provider_admin)
    assert client.get(reverse("billing:margin_orders")).status_code == 403
    assert 'id="order-margin"' not in client.get(reverse("workorders:order_detail", args=[p.order.pk])).content.decode()


def test_the_order_page_shows_cost_and_margin_to_the_back_office_only(figures, client_for):  # noqa: F811
    p = figures
    url = reverse("workorders:order_detail", args=[p.order.pk])
    page = client_for(p.agent).get(url).content.decode()
    assert 'id="order-margin"' in page
    assert "¥880.00" in page and "¥820.00" in page and "48.2 %" in page
    for who in ("engineer", "dispatcher", "customer_user_z"):
        response = client_for(getattr(p, who)).get(url)
        assert 'id="order-margin"' not in response.content.decode()


def test_the_order_page_shows_figures_of_an_order_not_yet_kept(figures, client_for):  # noqa: F811
    p = figures
    OrderMargin.objects.filter(work_order=p.z_order).delete()
    page = client_for(p.director).get(reverse("workorders:order_detail", args=[p.z_order.pk])).content.decode()
    assert 'id="order-margin"' in page and "¥200.00" in page
    assert not OrderMargin.objects.filter(work_order=p.z_order).exists()


def test_the_contract_and_customer_pages_have_their_margin_row(figures, client_for):  # noqa: F811
    p = figures
    client = client_for(p.director)
    contract_page = client.get(reverse("contracts:detail", args=[p.contract.pk])).content.decode()
    assert 'id="contract-margin"' in contract_page
    margin = D(10 * p.term_days) + 200 - 350
    assert f"¥{margin:,.2f}" in contract_page
    customer_page = client.get(reverse("customers:detail", args=[p.customer_z.pk])).content.decode()
    assert 'id="customer-margin"' in customer_page and "¥200.00" in customer_page and "66.7 %" in customer_page

    # The customer's own user sees his contract and company, never their margin.
    customer = factories.user(Role.CUSTOMER, organisation=p.customer_cn.organisation, username="cn_user")
    for url in (
        reverse("contracts:detail", args=[p.contract.pk]),
        reverse("customers:detail", args=[p.customer_cn.pk]),
    ):
        response = client_for(customer).get(url)
        body = response.content.decode()
        assert 'id="contract-margin"' not in body and 'id="customer-margin"' not in body


def test_the_menu_leads_the_back_office_to_cost_and_margin(figures, client_for):  # noqa: F811
    p = figures
    assert reverse("billing:margin_orders") in client_for(p.director).get(reverse("home")).content.decode()
    assert reverse("billing:margin_orders") not in client_for(p.dispatcher).get(reverse("home")).content.decode()
