"""Scheduling over the API: visits (list, schedule, move) and absences, scoped per caller."""

import pytest

from fieldservice.dispatch.models import Assignment
from fieldservice.scheduling import services
from fieldservice.scheduling.models import Absence, Visit
from tests.scheduling.conftest import at, order_for

API = "/api/v1"


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def iso(world, hhmm):
    return at(world.monday, hhmm).isoformat()


def fields(response) -> set:
    return {item["loc"][-1] for item in response.json()["detail"]}


@pytest.fixture
def planned(world):
    world.visit = services.schedule_visit(world.order, actor=world.dispatcher, planned_start=at(world.monday, "09:00"))
    world.z_order = order_for(world, world.customer_z, engineer=world.second)
    world.z_visit = services.schedule_visit(
        world.z_order, actor=world.dispatcher, planned_start=at(world.monday, "09:00")
    )
    return world


def ids(response) -> set:
    assert response.status_code == 200
    return {item["id"] for item in response.json()["items"]}


def test_visit_lists_are_scoped(api_client_for, planned):
    w = planned
    assert ids(api_client_for(w.dispatcher).get(f"{API}/visits")) == {w.visit.pk, w.z_visit.pk}
    assert ids(api_client_for(w.dispatcher).get(f"{API}/visits", {"engineer": w.second.pk})) == {w.z_visit.pk}
    assert ids(api_client_for(w.engineer).get(f"{API}/visits")) == {w.visit.pk}
    assert ids(api_client_for(w.customer_user_a).get(f"{API}/visits")) == {w.visit.pk}
    assert ids(api_client_for(w.customer_user_z).get(f"{API}/visits")) == {w.z_visit.pk}
    assert ids(api_client_for(w.provider_admin).get(f"{API}/visits")) == set()
    later = {"start": iso(w, "10:00")}
    assert ids(api_client_for(w.dispatcher).get(f"{API}/visits", later)) == set()
    assert api_client_for(w.customer_user_z).get(f"{API}/visits/{w.visit.pk}").status_code == 404


def test_schedule_through_the_api(api_client_for, world):
    response = post(
        api_client_for(world.dispatcher),
        f"{API}/work-orders/{world.order.pk}/visit",
        {"planned_start": iso(world, "13:00"), "duration_minutes": 45},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["engineer"], body["duration_minutes"], body["version"]) == (world.engineer.pk, 45, 1)
    bad = post(
        api_client_for(world.dispatcher),
        f"{API}/work-orders/{world.order.pk}/visit",
        {"planned_start": iso(world, "06:00"), "version": 1},
    )
    assert bad.status_code == 422 and fields(bad) == {"planned_start"}
    stale = post(
        api_client_for(world.dispatcher),
        f"{API}/work-orders/{world.order.pk}/visit",
        {"planned_start": iso(world, "14:00"), "version": 0},
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    assert Visit.objects.get().planned_start == at(world.monday, "13:00")


@pytest.mark.parametrize("who, status", [("customer_user_z", 404), ("provider_admin", 404), ("customer_user_a", 403)])
def test_schedule_refused_across_tenants(api_client_for, world, who, status):
    response = post(
        api_client_for(getattr(world, who)),
        f"{API}/work-orders/{world.order.pk}/visit",
        {"planned_start": iso(world, "13:00")},
    )
    assert response.status_code == status
    assert not Visit.objects.exists()


def test_move_through_the_api(api_client_for, planned):
    w = planned
    client = api_client_for(w.dispatcher)
    url = f"{API}/visits/{w.visit.pk}/move"
    response = post(client, url, {"engineer": w.second.pk, "planned_start": iso(w, "13:00"), "version": 1})
    assert response.status_code == 200 and response.json()["engineer"] == w.second.pk
    assert Assignment.objects.get(work_order=w.order, status="offered").engineer == w.second
    stale = post(client, url, {"engineer": w.engineer.pk, "planned_start": iso(w, "14:00"), "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    overlap = post(client, url, {"engineer": w.second.pk, "planned_start": iso(w, "09:30"), "version": 2})
    assert overlap.status_code == 422 and fields(overlap) == {"planned_start"}
    unknown = post(client, url, {"engineer": w.agent.pk, "planned_start": iso(w, "14:00"), "version": 2})
    assert unknown.status_code == 422 and fields(unknown) == {"engineer"}
    assert Visit.objects.get(pk=w.visit.pk).planned_start == at(w.monday, "13:00")


@pytest.mark.parametrize("who, status", [("engineer", 403), ("customer_user_z", 404), ("provider_admin", 404)])
def test_move_refused_for_others(api_client_for, planned, who, status):
    w = planned
    response = post(
        api_client_for(getattr(w, who)),
        f"{API}/visits/{w.visit.pk}/move",
        {"engineer": w.engineer.pk, "planned_start": iso(w, "14:00"), "version": 1},
    )
    assert response.status_code == status
    assert Visit.objects.get(pk=w.visit.pk).planned_start == at(w.monday, "09:00")


def test_absences_crud(api_client_for, planned):
    w = planned
    client = api_client_for(w.dispatcher)
    created = post(
        client,
        f"{API}/absences",
        {"engineer": w.engineer.pk, "kind": "sick", "starts_at": iso(w, "08:00"), "ends_at": iso(w, "12:00")},
    )
    assert created.status_code == 201
    body = created.json()
    assert [v["id"] for v in body["affected_visits"]] == [w.visit.pk]
    pk = body["id"]
    patched = client.patch(f"{API}/absences/{pk}", {"ends_at": iso(w, "08:30")}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["affected_visits"] == []
    bad = client.patch(f"{API}/absences/{pk}", {"ends_at": iso(w, "07:00")}, content_type="application/json")
    assert bad.status_code == 422 and fields(bad) == {"ends_at"}
    assert {a["id"] for a in client.get(f"{API}/absences").json()["items"]} == {pk}
    assert api_client_for(w.engineer).get(f"{API}/absences/{pk}").status_code == 200
    assert api_client_for(w.second).get(f"{API}/absences/{pk}").status_code == 404
    assert client.delete(f"{API}/absences/{pk}").status_code == 204
    assert not Absence.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "customer_user_a", "provider_admin", "agent"])
def test_absences_refused_for_others(api_client_for, world, who):
    absence = services.create_absence(
        actor=world.dispatcher,
        engineer=world.engineer,
        kind="leave",
        starts_at=at(world.monday, "08:00"),
        ends_at=at(world.monday, "10:00"),
    )
    client = api_client_for(getattr(world, who))
    created = post(
        client,
        f"{API}/absences",
        {"engineer": world.engineer.pk, "starts_at": iso(world, "13:00"), "ends_at": iso(world, "14:00")},
    )
    assert created.status_code == 403
    assert client.delete(f"{API}/absences/{absence.pk}").status_code in (403, 404)
    assert list(Absence.objects.values_list("pk", flat=True)) == [absence.pk]
