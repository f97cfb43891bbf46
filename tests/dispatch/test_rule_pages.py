"""The rule pages and API: managers edit, dispatchers read and test, others get 403; the tester
changes nothing; bad input comes back on the field it concerns."""

import pytest

from fieldservice.core.models import Event, OutboxMessage
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent

API = "/api/v1"


def state():
    """Everything the tester must leave untouched."""
    return (
        list(Assignment.objects.values_list("pk", "status")),
        WorkOrderEvent.objects.count(),
        OutboxMessage.objects.count(),
        list(WorkOrder.objects.values_list("pk", "status")),
        list(DispatchRule.objects.values_list("pk", "matched_count", "last_engineer_id", "position")),
        Event.objects.count(),
    )


@pytest.fixture
def nearest(world):
    return rule_services.create_rule(
        actor=world.dispatcher,
        name="Hydraulics nearest",
        conditions={"fault_category": [world.fault.pk]},
        strategy="nearest",
    )


def test_the_list_shows_the_rules_in_order(world, nearest, client_for):
    rule_services.create_rule(actor=world.dispatcher, name="Second rule", strategy="least_open")
    page = client_for(world.dispatcher).get("/dispatch/rules/").content.decode()
    assert page.index("Hydraulics nearest") < page.index("Second rule")
    assert "/dispatch/rules/new/" in page


def test_a_rule_is_created_through_the_form(world, client_for):
    response = client_for(world.dispatcher).post(
        "/dispatch/rules/new/",
        {
            "name": "Urgent to the team",
            "is_active": "on",
            "action": "assign",
            "target_kind": "anyone",
            "strategy": "best_match",
            "cond_priority": ["urgent", "high"],
            "cond_fault_category": [str(world.fault.pk)],
            **{f"weight_{f}": "2" for f in ("skill", "distance", "load", "last_engineer", "rating")},
        },
    )
    assert response.status_code == 302
    rule = DispatchRule.objects.get()
    assert rule.conditions == {"priority": ["high", "urgent"], "fault_category": [world.fault.pk]}
    assert rule.weights["skill"] == 2 and rule.created_by == world.dispatcher


def test_a_service_error_lands_on_its_field(world, client_for):
    response = client_for(world.dispatcher).post(
        "/dispatch/rules/new/",
        {
            "name": "Fixed nobody",
            "action": "assign",
            "target_kind": "anyone",
            "strategy": "fixed",
            **{f"weight_{f}": "1" for f in ("skill", "distance", "load", "last_engineer", "rating")},
        },
    )
    assert response.status_code == 200
    assert "strategy" in response.context["form"].errors
    assert not DispatchRule.objects.exists()


def test_move_toggle_and_delete(world, nearest, client_for):
    second = rule_services.create_rule(actor=world.dispatcher, name="Second", strategy="least_open")
    client = client_for(world.dispatcher)
    client.post(f"/dispatch/rules/{second.pk}/move/", {"direction": "up"})
    assert list(DispatchRule.objects.values_list("name", flat=True)) == ["Second", "Hydraulics nearest"]
    client.post(f"/dispatch/rules/{nearest.pk}/toggle/")
    nearest.refresh_from_db()
    assert not nearest.is_active
    client.post(f"/dispatch/rules/{nearest.pk}/delete/")
    assert list(DispatchRule.objects.values_list("name", flat=True)) == ["Second"]


def test_the_tester_shows_the_rule_the_pick_and_the_scores_and_changes_nothing(world, nearest, client_for):
    rule_services.create_rule(actor=world.dispatcher, name="Catch all", strategy="best_match")
    before = state()
    response = client_for(world.dispatcher).get("/dispatch/rules/tester/", {"order": world.order.number})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hydraulics nearest" in page and str(world.engineer) in page
    decision = response.context["result"]["decision"]
    assert decision.rule == nearest and decision.engineer_id == world.engineer.pk
    assert all(set(c.factors) == {"skill", "distance", "load", "last_engineer", "rating"} for c in decision.candidates)
    assert state() == before


def test_the_api_tester_matches_what_dispatch_then_does(world, nearest, api_client_for):
    from fieldservice.dispatch.rules.autodispatch import auto_dispatch

    client = api_client_for(world.dispatcher)
    before = state()
    body = client.get(f"{API}/work-orders/{world.order.pk}/rule-test").json()
    assert state() == before
    assert body["rule"] == nearest.pk and body["engineer"] == world.engineer.pk
    assert [c["engineer"] for c in body["candidates"] if c["chosen"]] == [world.engineer.pk]
    auto_dispatch(world.order)
    assert Assignment.objects.get(work_order=world.order).engineer_id == body["engineer"]


@pytest.mark.parametrize("who", ["provider_admin", "customer_user_a", "engineer", "agent"])
def test_outsiders_get_403_and_change_nothing(world, nearest, client_for, who):
    client = client_for(getattr(world, who))
    before = state()
    assert client.get("/dispatch/rules/").status_code == 403
    assert client.get("/dispatch/rules/tester/", {"order": world.order.number}).status_code == 403
    assert client.post("/dispatch/rules/new/", {"name": "x"}).status_code == 403
    assert client.post(f"/dispatch/rules/{nearest.pk}/toggle/").status_code == 403
    assert client.post(f"/dispatch/rules/{nearest.pk}/move/", {"direction": "down"}).status_code == 403
    assert client.post(f"/dispatch/rules/{nearest.pk}/delete/").status_code == 403
    assert state() == before


@pytest.mark.parametrize("who", ["provider_admin", "customer_user_a", "engineer", "agent"])
def test_outsiders_get_no_rules_over_the_api(world, nearest, api_client_for, who):
    client = api_client_for(getattr(world, who))
    before = state()
    assert client.get(f"{API}/dispatch-rules").status_code == 403
    assert client.post(f"{API}/dispatch-rules", {"name": "x"}, content_type="application/json").status_code == 403
    assert client.delete(f"{API}/dispatch-rules/{nearest.pk}").status_code == 403
    assert client.get(f"{API}/work-orders/{world.order.pk}/rule-test").status_code in (403, 404)
    assert state() == before


def test_the_api_names_an_unknown_field_and_a_bad_condition(world, api_client_for):
    client = api_client_for(world.dispatcher)
    response = client.post(f"{API}/dispatch-rules", {"name": "x", "colour": "red"}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "colour"]
    response = client.post(
        f"{API}/dispatch-rules", {"name": "x", "conditions": {"size": ["big"]}}, content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "conditions.size"]
    assert not DispatchRule.objects.exists()


def test_the_api_creates_and_changes_a_rule(world, api_client_for):
    client = api_client_for(world.dispatcher)
    response = client.post(
        f"{API}/dispatch-rules",
        {
            "name": "To Wang",
            "target_kind": "engineer",
            "target_engineer": world.engineer.pk,
            "strategy": "fixed",
            "conditions": {"priority": ["urgent"]},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    rule_id = response.json()["id"]
    response = client.patch(f"{API}/dispatch-rules/{rule_id}", {"is_active": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["is_active"] is False


def test_an_area_polygon_that_does_not_close_is_refused_over_the_api(world, api_client_for):
    client = api_client_for(world.dispatcher)
    open_ring = [[121.0, 29.0], [122.0, 29.0], [122.0, 30.0], [121.0, 30.0]]
    response = client.put(
        f"{API}/service-areas/{world.ningbo.pk}/polygon", {"polygon": open_ring}, content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "polygon"]
    world.ningbo.refresh_from_db()
    assert world.ningbo.polygon == []


def test_the_api_lists_the_rules_in_order(world, nearest, api_client_for):
    second = rule_services.create_rule(actor=world.dispatcher, name="Second", strategy="least_open")
    rule_services.move_rule(second, actor=world.dispatcher, direction="up")
    items = api_client_for(world.dispatcher).get(f"{API}/dispatch-rules").json()["items"]
    assert [item["name"] for item in items] == ["Second", "Hydraulics nearest"]
