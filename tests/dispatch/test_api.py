"""Dispatch over the API: candidates, dispatching, reassigning, helpers, and the answers."""

import pytest

from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.choices import AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests.dispatch.conftest import order_for

API = "/api/v1"
S = WorkOrderStatus
A = AssignmentStatus


def post(client, url, data=None, **headers):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def error_fields(response) -> set:
    """The fields a 422 names: ["body", field] from the services, ["body", "payload", field] from the schema."""
    return {item["loc"][-1] if item["loc"][1] == "payload" else item["loc"][1] for item in response.json()["detail"]}


def snapshot(order) -> tuple:
    return (
        WorkOrder.objects.get(pk=order.pk).status,
        list(Assignment.objects.filter(work_order=order).order_by("pk").values_list("engineer", "provider", "status")),
    )


def url(order, verb: str) -> str:
    return f"{API}/work-orders/{order.pk}/{verb}"


# Candidates


def test_candidates_are_ranked_with_their_reasons(api_client_for, world):
    response = api_client_for(world.dispatcher).get(url(world.order, "candidates"))
    assert response.status_code == 200
    items = response.json()
    assert [item["engineer"] for item in items[:3]] == [world.engineer.pk, world.provider_engineer.pk, world.far.pk]
    by_id = {item["engineer"]: item for item in items}
    assert by_id[world.engineer.pk]["is_suitable"] is True and by_id[world.engineer.pk]["reasons"] == []
    assert by_id[world.unskilled.pk]["reasons"] == ["lacks the skill"]
    assert by_id[world.off_duty.pk]["reasons"] == ["off duty"]
    assert by_id[world.provider_engineer.pk]["organisation_name"] == "Provider B"
    assert 0 < by_id[world.engineer.pk]["distance_km"] < 2
    assert world.on_leave.pk not in by_id
    assert len(api_client_for(world.dispatcher).get(url(world.order, "candidates"), {"limit": 2}).json()) == 2


@pytest.mark.parametrize(
    "who, status", [("agent", 403), ("director", 403), ("engineer", 404), ("customer_user_z", 404)]
)
def test_candidates_need_the_dispatch_capability(api_client_for, world, who, status):
    assert api_client_for(getattr(world, who)).get(url(world.order, "candidates")).status_code == status


# Dispatch


def test_dispatch_to_an_engineer(api_client_for, world):
    response = post(api_client_for(world.dispatcher), url(world.order, "dispatch"), {"engineer": world.engineer.pk})
    assert response.status_code == 201
    body = response.json()
    assert (body["engineer"], body["role"], body["status"], body["work_order_status"]) == (
        world.engineer.pk,
        "lead",
        "offered",
        "dispatched",
    )
    assert snapshot(world.order) == (S.DISPATCHED, [(world.engineer.pk, None, A.OFFERED)])


def test_dispatch_to_a_provider(api_client_for, world):
    response = post(api_client_for(world.dispatcher), url(world.order, "dispatch"), {"provider": world.provider.pk})
    assert response.status_code == 201
    assert (response.json()["provider"], response.json()["engineer"]) == (world.provider.pk, None)
    assert snapshot(world.order) == (S.DISPATCHED, [(None, world.provider.pk, A.OFFERED)])


@pytest.mark.parametrize(
    "data, fields",
    [
        ({}, {"engineer", "provider"}),
        ({"engineer": "ENGINEER", "provider": "PROVIDER"}, {"engineer", "provider"}),
        ({"engineer": 999999}, {"engineer"}),
        ({"provider": 999999}, {"provider"}),
        ({"engineer": "ON_LEAVE"}, {"engineer"}),
        ({"engineer": "OTHER_PROVIDER_ENGINEER"}, {"engineer"}),
        ({"engineer": "AGENT"}, {"engineer"}),
        ({"engineer": "ENGINEER", "status": "accepted"}, {"status"}),
    ],
)
def test_dispatch_field_errors_are_422_and_change_nothing(api_client_for, world, data, fields):
    ids = {
        "ENGINEER": world.engineer.pk,
        "PROVIDER": world.provider.pk,
        "ON_LEAVE": world.on_leave.pk,
        "OTHER_PROVIDER_ENGINEER": world.other_provider_engineer.pk,
        "AGENT": world.agent.pk,
    }
    data = {key: ids.get(value, value) for key, value in data.items()}
    response = post(api_client_for(world.dispatcher), url(world.order, "dispatch"), data)
    assert response.status_code == 422, response.json()
    assert error_fields(response) == fields
    assert snapshot(world.order) == (S.NEW, [])


def test_a_second_dispatch_is_409(api_client_for, world):
    client = api_client_for(world.dispatcher)
    post(client, url(world.order, "dispatch"), {"engineer": world.engineer.pk})
    before = snapshot(world.order)
    response = post(client, url(world.order, "dispatch"), {"engineer": world.far.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "already_dispatched" and response.json()["detail"]
    assert snapshot(world.order) == before


def test_dispatch_is_idempotent_with_a_key(api_client_for, world):
    client = api_client_for(world.dispatcher)
    first = post(client, url(world.order, "dispatch"), {"engineer": world.engineer.pk}, **{"Idempotency-Key": "d-1"})
    again = post(client, url(world.order, "dispatch"), {"engineer": world.engineer.pk}, **{"Idempotency-Key": "d-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert Assignment.objects.filter(work_order=world.order).count() == 1


@pytest.mark.parametrize("who, status", [("agent", 403), ("engineer", 404), ("provider_admin", 404)])
def test_only_dispatchers_dispatch(api_client_for, world, who, status):
    response = post(api_client_for(getattr(world, who)), url(world.order, "dispatch"), {"engineer": world.engineer.pk})
    assert response.status_code == status
    assert snapshot(world.order) == (S.NEW, [])


def test_reassign(api_client_for, world):
    client = api_client_for(world.dispatcher)
    post(client, url(world.order, "dispatch"), {"engineer": world.engineer.pk})
    response = post(client, url(world.order, "reassign"), {"engineer": world.far.pk, "reason": ""})
    assert response.status_code == 422 and error_fields(response) == {"reason"}
    response = post(client, url(world.order, "reassign"), {"engineer": world.far.pk, "reason": "Nearer"})
    assert response.status_code == 201 and response.json()["engineer"] == world.far.pk
    assert snapshot(world.order) == (
        S.DISPATCHED,
        [(world.engineer.pk, None, A.REVOKED), (world.far.pk, None, A.OFFERED)],
    )


def test_helpers(api_client_for, world):
    client = api_client_for(world.dispatcher)
    response = post(client, url(world.order, "helpers"), {"engineer": world.far.pk})
    assert response.status_code == 409 and response.json()["code"] == "not_dispatched"
    post(client, url(world.order, "dispatch"), {"engineer": world.engineer.pk})
    response = post(client, url(world.order, "helpers"), {"engineer": world.far.pk})
    assert response.status_code == 201 and response.json()["role"] == "helper"
    helper_id = response.json()["id"]
    response = post(api_client_for(world.far), f"{API}/assignments/{helper_id}/accept")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.DISPATCHED


# Answers


def test_engineer_lists_their_own_assignments(api_client_for, world):
    mine = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    other = order_for(world)
    services.dispatch_to_engineer(other, actor=world.dispatcher, engineer=world.far)
    client = api_client_for(world.engineer)
    response = client.get(f"{API}/assignments")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [mine.pk]
    assert client.get(f"{API}/assignments", {"status": "accepted"}).json()["items"] == []
    assert api_client_for(world.customer_user_a).get(f"{API}/assignments").json()["items"] == []


def test_provider_admin_lists_the_assignments_of_their_company(api_client_for, world):
    given = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    items = api_client_for(world.provider_admin).get(f"{API}/assignments").json()["items"]
    assert [item["id"] for item in items] == [given.pk]
    assert api_client_for(world.other_provider_admin).get(f"{API}/assignments").json()["items"] == []


def test_accept_then_a_second_accept_is_409(api_client_for, world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    client = api_client_for(world.engineer)
    response = post(client, f"{API}/assignments/{assignment.pk}/accept")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["work_order_status"]) == ("accepted", "accepted")
    response = post(client, f"{API}/assignments/{assignment.pk}/accept")
    assert response.status_code == 409 and response.json()["code"] == "already_answered"
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.ACCEPTED


def test_answers_by_the_wrong_user(api_client_for, world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    helper = services.add_helper(
        WorkOrder.objects.get(pk=world.order.pk), actor=world.dispatcher, engineer=world.provider_engineer
    )
    before = snapshot(world.order)
    # A helper on the order sees the lead's assignment but may not answer it.
    assert post(api_client_for(world.provider_engineer), f"{API}/assignments/{assignment.pk}/accept").status_code == 403
    # Others do not see it at all.
    for who in ("far", "customer_user_z", "other_provider_admin"):
        client = api_client_for(getattr(world, who))
        assert post(client, f"{API}/assignments/{assignment.pk}/accept").status_code == 404
        assert post(client, f"{API}/assignments/{assignment.pk}/reject", {"reason": "x"}).status_code == 404
    assert post(api_client_for(world.dispatcher), f"{API}/assignments/{assignment.pk}/accept").status_code == 403
    assert snapshot(world.order) == before
    assert Assignment.objects.get(pk=helper.pk).status == A.OFFERED


def test_reject_needs_a_reason_and_returns_the_order(api_client_for, world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    client = api_client_for(world.engineer)
    response = post(client, f"{API}/assignments/{assignment.pk}/reject", {"reason": " "})
    assert response.status_code == 422 and error_fields(response) == {"reason"}
    assert post(client, f"{API}/assignments/{assignment.pk}/reject", {}).status_code == 422
    response = post(client, f"{API}/assignments/{assignment.pk}/reject", {"reason": "Ill"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"], response.json()["work_order_status"]) == (
        "rejected",
        "Ill",
        "rejected",
    )
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.REJECTED


def test_revoke(api_client_for, world):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    response = post(api_client_for(world.engineer), f"{API}/assignments/{assignment.pk}/revoke", {"reason": "x"})
    assert response.status_code == 403
    client = api_client_for(world.dispatcher)
    assert post(client, f"{API}/assignments/{assignment.pk}/revoke", {"reason": ""}).status_code == 422
    response = post(client, f"{API}/assignments/{assignment.pk}/revoke", {"reason": "Postponed"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["work_order_status"]) == ("revoked", "new")
    response = post(client, f"{API}/assignments/{assignment.pk}/revoke", {"reason": "Again"})
    assert response.status_code == 409 and response.json()["code"] == "not_active"


def test_provider_admin_assigns_an_engineer(api_client_for, world):
    given = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    endpoint = f"{API}/assignments/{given.pk}/assign-engineer"
    # Another provider's admin does not see the order; nothing changes.
    response = post(api_client_for(world.other_provider_admin), endpoint, {"engineer": world.provider_engineer.pk})
    assert response.status_code == 404
    assert Assignment.objects.get(pk=given.pk).engineer is None
    client = api_client_for(world.provider_admin)
    # Engineers of other companies are not theirs to name.
    response = post(client, endpoint, {"engineer": world.engineer.pk})
    assert response.status_code == 422 and error_fields(response) == {"engineer"}
    response = post(client, endpoint, {"engineer": world.provider_engineer.pk})
    assert response.status_code == 200 and response.json()["engineer"] == world.provider_engineer.pk
    response = post(client, endpoint, {"engineer": world.provider_engineer.pk})
    assert response.status_code == 409 and response.json()["code"] == "already_assigned"
    # The named engineer now sees and accepts it.
    response = post(api_client_for(world.provider_engineer), f"{API}/assignments/{given.pk}/accept")
    assert response.status_code == 200
    assert WorkOrder.objects.get(pk=world.order.pk).status == S.ACCEPTED


def test_dispatcher_may_not_assign_a_providers_engineer(api_client_for, world):
    given = services.dispatch_to_provider(world.order, actor=world.dispatcher, provider=world.provider)
    response = post(
        api_client_for(world.dispatcher),
        f"{API}/assignments/{given.pk}/assign-engineer",
        {"engineer": world.provider_engineer.pk},
    )
    assert response.status_code == 403
    assert Assignment.objects.get(pk=given.pk).engineer is None


def test_anonymous_calls_are_refused(client, world):
    assert client.get(f"{API}/assignments").status_code == 401
    assert client.post(url(world.order, "dispatch"), {}, content_type="application/json").status_code == 401
