"""Who sees which inspection (every crossing is a 404 that changes nothing), and the API."""

import pytest

from fieldservice.dispatch.assignments.services import dispatch_to_provider
from fieldservice.maintenance.models import Finding, Inspection
from fieldservice.maintenance.models.inspections import InspectionStatus
from fieldservice.maintenance.selectors.inspections import inspections_for
from fieldservice.maintenance.services import inspections as services
from tests import factories
from tests.maintenance.inspection_data import approved, start

S = InspectionStatus
BASE = "/api/v1/maintenance/inspections"


def _visible(user) -> set[int]:
    return set(inspections_for(user).values_list("pk", flat=True))


def test_scoping_of_every_role(world):
    p = world.p
    draft = start(world)
    running = approved(world)
    stranger = factories.engineer(p.own)
    # Our desk sees all; the customer only his own once sent; the other customer nothing.
    assert _visible(p.agent) == {draft.pk, running.pk}
    assert _visible(p.director) == {draft.pk, running.pk}
    assert _visible(p.customer_user_a) == {running.pk}
    assert _visible(p.customer_user_z) == set()
    # Engineers: the one named on it; not another one, nor a provider's engineer.
    assert _visible(world.engineer) == {draft.pk, running.pk}
    assert _visible(stranger) == set()
    assert _visible(p.provider_engineer) == set()
    # Providers: only once an order is dispatched to them.
    for_provider = approved(world, engineers=[])
    assert _visible(p.provider_admin) == set()
    dispatch_to_provider(for_provider.machines.first().work_order, actor=p.dispatcher, provider=p.provider)
    assert _visible(p.provider_admin) == {for_provider.pk}
    assert for_provider.pk not in _visible(world.engineer)
    assert _visible(p.other_provider_admin) == set()
    assert _visible(p.parts_keeper) == set()


def test_crossings_through_the_api_are_404_and_change_nothing(world, api_client_for):
    p = world.p
    inspection = approved(world)
    line = inspection.machines.first()
    for user in (p.customer_user_z, p.other_provider_admin, factories.engineer(p.own), p.parts_keeper):
        client = api_client_for(user)
        assert client.get(f"{BASE}/{inspection.pk}").status_code == 404
        assert client.post(f"{BASE}/{inspection.pk}/report").status_code == 404
        response = client.post(
            f"{BASE}/{inspection.pk}/findings",
            {"machine": line.pk, "severity": "low", "title": "x", "disposition": "fixed", "action_taken": "y"},
            content_type="application/json",
        )
        assert response.status_code == 404
        assert client.get(BASE).json()["items"] == []
    inspection.refresh_from_db()
    assert inspection.status == S.APPROVED and not Finding.objects.exists()


def test_the_four_steps_through_the_api(world, api_client_for):
    p = world.p
    desk = api_client_for(p.dispatcher)
    created = desk.post(
        BASE,
        {
            "site": world.site.pk,
            "equipment": [m.pk for m in world.machines],
            "template": world.template.pk,
            "engineers": [world.engineer.pk],
            "title": "Spring check",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["status"] == "draft" and len(body["machines"]) == 2 and body["allowed"] == ["send", "cancel"]
    assert desk.post(f"{BASE}/{pk}/send").json()["status"] == "sent"
    customer = api_client_for(p.customer_user_a)
    # The customer may read and decide, not move it on the desk's behalf.
    assert customer.post(f"{BASE}/{pk}/report").status_code == 403
    approved_body = customer.post(f"{BASE}/{pk}/approve", {"name": "Ms Wang"}, content_type="application/json").json()
    assert approved_body["status"] == "approved"
    assert all(m["work_order"] for m in approved_body["machines"])
    again = customer.post(f"{BASE}/{pk}/approve", {"name": "Ms Wang"}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    engineer = api_client_for(world.engineer)
    finding = engineer.post(
        f"{BASE}/{pk}/findings",
        {
            "machine": body["machines"][0]["id"],
            "severity": "high",
            "title": "Hose worn",
            "disposition": "change",
            "recommendation": "Replace both hoses",
        },
        content_type="application/json",
    )
    assert finding.status_code == 201, finding.content
    decided = customer.post(
        f"{BASE}/{pk}/findings/{finding.json()['id']}/decide", {"approve": True}, content_type="application/json"
    )
    assert decided.json()["change_decision"] == "approved"
    assert desk.post(f"{BASE}/{pk}/report").json()["status"] == "reported"
    assert (
        customer.post(f"{BASE}/{pk}/confirm", {"name": "Ms Wang"}, content_type="application/json").status_code == 200
    )
    closed = desk.post(f"{BASE}/{pk}/close").json()
    assert closed["status"] == "closed" and closed["confirmed_by_name"] == "Ms Wang"
    pdf = desk.get(f"{BASE}/{pk}/pdf?lang=en")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"equipment": []}, "equipment"),
        ({"template": 999999}, "template"),
        ({"site": 999999}, "site"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_creates_are_422_naming_the_field(world, api_client_for, change, field):
    body = {"site": world.site.pk, "equipment": [m.pk for m in world.machines], "template": world.template.pk}
    body.update(change)
    response = api_client_for(world.p.dispatcher).post(BASE, body, content_type="application/json")
    assert response.status_code == 422
    assert field in [d["loc"][-1] for d in response.json()["detail"]]
    assert not Inspection.objects.exists()


def test_a_finding_without_disposition_is_422(world, api_client_for):
    inspection = approved(world)
    response = api_client_for(world.engineer).post(
        f"{BASE}/{inspection.pk}/findings",
        {"machine": inspection.machines.first().pk, "severity": "low", "title": "Loose cover"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "disposition"
    assert not Finding.objects.exists()


def test_services_refuse_a_customer_moving_the_desk_verbs(world):
    inspection = approved(world)
    with pytest.raises(Exception) as caught:
        services.close_inspection(inspection, actor=world.p.customer_user_a)
    assert caught.type.__name__ == "PermissionDenied"
