"""The SLA API: an order's clocks, scoped like the order, and the overdue list."""

from tests.sla.conftest import THURSDAY_NOON, at

API = "/api/v1"


def get(client, url, **params):
    with at(THURSDAY_NOON):
        return client.get(url, params)


def test_an_orders_clocks(api_client_for, overdue):
    o = overdue
    response = get(api_client_for(o.engineer), f"{API}/work-orders/{o.ours.pk}/sla")
    assert response.status_code == 200
    rows = response.json()
    assert [row["target"] for row in rows] == ["response", "acceptance", "arrival", "resolution"]
    response_row = rows[0]
    assert response_row["state"] == "met" and response_row["business_minutes_left"] is None
    assert response_row["met_at"].startswith("2026-03-11T02:20:00")  # 10:20 in Shanghai
    resolution = rows[3]
    assert resolution["state"] == "breached"
    assert resolution["business_minutes_left"] == -120  # due Thursday 10:00, now noon
    assert resolution["target_minutes"] == 480


def test_an_orders_clocks_across_tenants(api_client_for, overdue):
    o = overdue
    url = f"{API}/work-orders/{o.ours.pk}/sla"
    assert get(api_client_for(o.customer_user_a), url).status_code == 200  # their own order
    for who in ("customer_user_z", "provider_admin", "provider_engineer", "other_provider_admin"):
        assert get(api_client_for(getattr(o, who)), url).status_code == 404, who
    assert get(api_client_for(o.provider_admin), f"{API}/work-orders/{o.theirs.pk}/sla").status_code == 200
    assert get(api_client_for(o.engineer), f"{API}/work-orders/{o.theirs.pk}/sla").status_code == 404
    assert get(api_client_for(o.engineer), f"{API}/work-orders/999999/sla").status_code == 404


def test_the_overdue_list(api_client_for, overdue):
    o = overdue
    response = get(api_client_for(o.dispatcher), f"{API}/sla/overdue")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 11
    first = body["items"][0]
    assert first["number"] == o.waiting.number and first["target"] == "response"  # the earliest due
    assert first["customer"] == "Customer Z" and first["priority"] == "normal" and first["state"] == "breached"
    at_risk = get(api_client_for(o.dispatcher), f"{API}/sla/overdue", state="at_risk").json()
    assert [(item["number"], item["business_minutes_left"]) for item in at_risk["items"]] == [(o.fresh.number, 10)]
    responses = get(api_client_for(o.director), f"{API}/sla/overdue", target="response").json()
    assert {item["number"] for item in responses["items"]} == {o.waiting.number, o.fresh.number}
    assert get(api_client_for(o.dispatcher), f"{API}/sla/overdue", state="late").status_code == 422


def test_the_overdue_list_across_tenants(api_client_for, overdue):
    o = overdue
    numbers = {item["number"] for item in get(api_client_for(o.provider_admin), f"{API}/sla/overdue").json()["items"]}
    assert numbers == {o.theirs.number}
    numbers = {item["number"] for item in get(api_client_for(o.engineer), f"{API}/sla/overdue").json()["items"]}
    assert numbers == {o.ours.number}
    assert get(api_client_for(o.other_provider_admin), f"{API}/sla/overdue").json()["count"] == 0
    assert get(api_client_for(o.customer_user_a), f"{API}/sla/overdue").status_code == 403
