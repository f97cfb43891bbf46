"""The customer-care API: plans (list with effect, create, read, update), the verbs, touches, the
caller's tasks and their outcome; and the crossings: nobody but care managers sees a plan, a task
only its assignee (and the managers)."""

import json

import pytest

from fieldservice.maintenance.models import CarePlan, CareTouch
from fieldservice.maintenance.services import care as services
from tests.maintenance import care_helpers as h

pytestmark = pytest.mark.django_db

API = "/api/v1/maintenance/care"
JSON = "application/json"


def _post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type=JSON, headers=headers)


def test_a_plan_is_created_moved_and_run_through_the_api(personas, api_client_for):
    customers = h.key_customers(personas.admin, 2)
    agent = api_client_for(personas.agent)
    body = {
        "name": "Warranty ends: a call",
        "occasion": "warranty_ending",
        "method": "call",
        "chosen": True,
        "customers": [c.pk for c in customers],
        "participants": [personas.agent.pk],
        "body": "Call {{ contact }} of {{ customer }} about a contract.",
        "starts_on": "2026-12-10",
        "budget": "200.00",
    }
    created = _post(agent, f"{API}/plans", body, **{"Idempotency-Key": "care-1"})
    assert created.status_code == 201, created.content
    plan = created.json()
    assert (plan["status"], plan["customers"], plan["budget"]) == ("plan", [c.pk for c in customers], "200.00")
    again = _post(agent, f"{API}/plans", body, **{"Idempotency-Key": "care-1"})
    assert again.json()["id"] == plan["id"] and CarePlan.objects.count() == 1

    status = agent.post(f"{API}/plans/{plan['id']}/close")
    assert status.status_code == 409 and status.json()["code"] == "illegal_transition"

    assert agent.post(f"{API}/plans/{plan['id']}/activate").json()["status"] == "active"
    run = agent.post(f"{API}/plans/{plan['id']}/run").json()
    assert (run["created"], run["tasks"], run["plan"]["status"]) == (2, 2, "running")
    assert agent.post(f"{API}/plans/{plan['id']}/run").json()["created"] == 0

    tasks = agent.get(f"{API}/tasks?open=true").json()["items"]
    assert {t["customer"] for t in tasks} == {c.pk for c in customers}
    done = _post(agent, f"{API}/touches/{tasks[0]['id']}/outcome", {"outcome": "lead", "note": "Second machine"})
    assert done.status_code == 200 and done.json()["outcome"] == "lead"
    listed = agent.get(f"{API}/plans?status=running").json()["items"]
    assert [(p["id"], p["effect"]["responses"], p["effect"]["leads"]) for p in listed] == [(plan["id"], 1, 1)]
    assert listed[0]["effect"]["cost_per_response"] == "0.00"

    touches = agent.get(f"{API}/plans/{plan['id']}/touches").json()
    assert touches["count"] == 2


def test_bad_input_is_a_422_naming_the_field(personas, api_client_for):
    agent = api_client_for(personas.agent)
    cases = [
        ({"name": "x", "occasion": "nope", "starts_on": "2026-12-10"}, "occasion"),
        ({"name": "x", "occasion": "festival", "starts_on": "2026-12-10", "body": "{% if %}"}, "body"),
        ({"name": "x", "occasion": "festival", "starts_on": "2026-12-10", "budget": "-5"}, "budget"),
        ({"name": "x", "occasion": "festival", "starts_on": "2026-12-10", "status": "closed"}, "status"),
    ]
    for body, field in cases:
        response = _post(agent, f"{API}/plans", body)
        assert response.status_code == 422, (field, response.content)
        assert field in {tuple(d["loc"])[-1] for d in response.json()["detail"]}
    assert not CarePlan.objects.exists()


def test_activating_an_incomplete_plan_is_a_422_naming_the_field(personas, api_client_for):
    plan = h.plan(personas.agent, method="")
    response = api_client_for(personas.agent).post(f"{API}/plans/{plan.pk}/activate")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "method"]
    plan.refresh_from_db()
    assert plan.status == "plan"


def test_a_running_plan_is_patched_only_in_its_cost(personas, api_client_for):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent)
    agent = api_client_for(personas.agent)
    refused = agent.patch(f"{API}/plans/{plan.pk}", json.dumps({"body": "x"}), content_type=JSON)
    assert refused.status_code == 409 and refused.json()["code"] == "plan_running"
    ok = agent.patch(f"{API}/plans/{plan.pk}", json.dumps({"actual_cost": "88.00"}), content_type=JSON)
    assert ok.status_code == 200 and ok.json()["actual_cost"] == "88.00"


OUTSIDERS = ("dispatcher", "engineer", "provider_admin", "provider_engineer", "customer_user_a", "customer_user_z")


def test_nobody_but_care_managers_reaches_a_plan(personas, api_client_for):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent, method="call", participants=[personas.agent.pk])
    touch = CareTouch.objects.get(plan=plan)
    for who in OUTSIDERS:
        client = api_client_for(getattr(personas, who))
        for url in (f"{API}/plans", f"{API}/plans/{plan.pk}", f"{API}/plans/{plan.pk}/touches"):
            assert client.get(url).status_code == 404, (who, url)
        for verb in ("activate", "run", "close"):
            assert client.post(f"{API}/plans/{plan.pk}/{verb}").status_code == 404, (who, verb)
        created = _post(client, f"{API}/plans", {"name": "x", "occasion": "festival", "starts_on": "2026-12-10"})
        assert created.status_code == 404, who
        assert client.get(f"{API}/touches/{touch.pk}").status_code == 404, who
        outcome = _post(client, f"{API}/touches/{touch.pk}/outcome", {"outcome": "reached"})
        assert outcome.status_code == 404, who
        assert client.get(f"{API}/tasks").json()["count"] == 0, who
    plan.refresh_from_db()
    touch.refresh_from_db()
    assert (plan.status, touch.outcome, CarePlan.objects.count()) == ("running", "", 1)


def test_a_task_is_its_assignees_even_when_he_is_no_care_manager(personas, api_client_for):
    h.key_customers(personas.admin, 1)
    plan = h.running(personas.agent, method="visit", participants=[personas.engineer.pk])
    touch = CareTouch.objects.get(plan=plan)
    assert touch.assignee == personas.engineer
    engineer = api_client_for(personas.engineer)
    assert [t["id"] for t in engineer.get(f"{API}/tasks").json()["items"]] == [touch.pk]
    assert engineer.get(f"{API}/plans/{plan.pk}").status_code == 404  # the task, not the plan
    done = _post(engineer, f"{API}/touches/{touch.pk}/outcome", {"outcome": "request"})
    assert done.status_code == 200
    # The director (a manager) sees it too, but not in his own task list.
    director = api_client_for(personas.director)
    assert director.get(f"{API}/touches/{touch.pk}").json()["outcome"] == "request"
    assert director.get(f"{API}/tasks").json()["count"] == 0
    services.close_care_plan(plan, actor=personas.agent)
    closed = _post(engineer, f"{API}/touches/{touch.pk}/outcome", {"outcome": "refused"})
    assert closed.status_code == 409
