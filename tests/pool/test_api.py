"""The pool endpoints under /api/v1/."""

import pytest

from fieldservice.dispatch.models import Assignment
from fieldservice.pool import services
from fieldservice.pool.choices import OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import WorkOrderStatus


def _snapshot(order):
    order.refresh_from_db()
    return (
        order.status,
        list(PoolOffer.objects.filter(work_order=order).values_list("status", "grabbed_by", "decided_by")),
        Assignment.objects.filter(work_order=order).count(),
    )


def test_the_dispatcher_publishes_and_lists(personas, pool, api_client_for):
    client = api_client_for(personas.dispatcher)
    response = client.post(
        f"/api/v1/work-orders/{pool.order_a.pk}/pool",
        {"minutes": 15, "requires_approval": True, "provider": personas.provider.pk, "note": "gauge"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open" and body["provider"] == personas.provider.pk and body["requires_approval"]
    assert body["work_order_number"] == pool.order_a.number and body["skill"] == pool.skill.pk
    listed = client.get("/api/v1/pool/offers").json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]


def test_publish_errors_map_to_422_and_409(personas, pool, api_client_for):
    client = api_client_for(personas.dispatcher)
    url = f"/api/v1/work-orders/{pool.order_a.pk}/pool"
    response = client.post(url, {"minutes": 0}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "minutes"]
    response = client.post(url, {"provider": personas.customer_a.organisation.pk}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "provider"]
    assert client.post(url, {}, content_type="application/json").status_code == 201
    response = client.post(url, {}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "already_in_pool"
    assert PoolOffer.objects.filter(work_order=pool.order_a).count() == 1


def test_engineers_list_their_pool_with_distance_and_grab(personas, pool, api_client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    client = api_client_for(personas.engineer)
    [item] = client.get("/api/v1/pool/offers").json()["items"]
    assert item["id"] == offer.pk and 6.0 < item["distance_km"] < 7.0
    response = client.post(f"/api/v1/pool/offers/{offer.pk}/grab")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awarded" and response.json()["work_order_status"] == "accepted"


def test_a_late_grab_is_409_taken(personas, pool, api_client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    services.grab(offer, actor=personas.engineer)
    before = _snapshot(pool.order_a)
    response = api_client_for(personas.provider_engineer).post(f"/api/v1/pool/offers/{offer.pk}/grab")
    assert response.status_code == 409
    assert response.json()["code"] == "taken"
    assert "already been taken by another engineer" in response.json()["detail"]
    assert _snapshot(pool.order_a) == before


def test_another_providers_engineer_gets_404(personas, pool, api_client_for):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher)
    client = api_client_for(pool.other_engineer)
    assert client.get("/api/v1/pool/offers").json()["items"] == []
    before = _snapshot(pool.order_a)
    assert client.get(f"/api/v1/pool/offers/{offer.pk}").status_code == 404
    assert client.post(f"/api/v1/pool/offers/{offer.pk}/grab").status_code == 404
    assert _snapshot(pool.order_a) == before


def test_approve_decline_withdraw(personas, pool, api_client_for):
    client = api_client_for(personas.dispatcher)
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    response = client.post(f"/api/v1/pool/offers/{offer.pk}/decline", {"reason": "no"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    services.grab(offer, actor=personas.provider_engineer)
    response = client.post(f"/api/v1/pool/offers/{offer.pk}/approve")
    assert response.status_code == 200 and response.json()["grabbed_by"] == personas.provider_engineer.pk
    assert _snapshot(pool.order_a)[0] == WorkOrderStatus.ACCEPTED
    other = services.publish_to_pool(pool.order_z, actor=personas.dispatcher)
    response = client.post(f"/api/v1/pool/offers/{other.pk}/withdraw", {"reason": ""}, content_type="application/json")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "reason"]
    response = client.post(f"/api/v1/pool/offers/{other.pk}/withdraw", {"reason": "x"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == OfferStatus.WITHDRAWN


@pytest.mark.parametrize("who", ["engineer", "provider_engineer", "provider_admin", "agent", "customer_user_a"])
def test_only_dispatchers_publish_approve_decline_withdraw(personas, pool, api_client_for, who):
    offer = services.publish_to_pool(pool.order_a, actor=personas.dispatcher, requires_approval=True)
    services.grab(offer, actor=personas.engineer)
    client = api_client_for(getattr(personas, who))
    before = _snapshot(pool.order_a)
    for verb in ("approve", "decline", "withdraw"):
        response = client.post(
            f"/api/v1/pool/offers/{offer.pk}/{verb}", {"reason": "x"}, content_type="application/json"
        )
        assert response.status_code in (403, 404), (verb, response.status_code)
    response = client.post(f"/api/v1/work-orders/{pool.order_z.pk}/pool", {}, content_type="application/json")
    assert response.status_code in (403, 404)
    assert _snapshot(pool.order_a) == before
    assert not PoolOffer.objects.filter(work_order=pool.order_z).exists()
