"""The webhooks API: administrators only; the secret only in the create and rotate answers."""

import pytest

from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription
from tests import factories
from tests.webhooks.conftest import OTHERS, PUBLIC_URL, deliveries

API = "/api/v1/webhooks"


def post(client, url, data=None, **headers):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_create_returns_the_secret_and_nothing_else_does(api_client_for, personas):
    client = api_client_for(personas.admin)
    response = post(client, API, {"name": "ERP", "url": PUBLIC_URL, "events": ["sla.breached", "work_order.created"]})
    assert response.status_code == 201
    created = response.json()
    hook = WebhookSubscription.objects.get()
    assert created["secret"] == hook.secret and created["id"] == hook.pk
    assert created["events"] == ["work_order.created", "sla.breached"] and created["active"] is True
    reads = [
        client.get(API),
        client.get(f"{API}/{hook.pk}"),
        patch(client, f"{API}/{hook.pk}", {"name": "ERP 2"}),
        client.get(f"{API}/{hook.pk}/deliveries"),
    ]
    for response in reads:
        assert response.status_code == 200
        assert hook.secret not in response.content.decode() and '"secret"' not in response.content.decode()
    assert client.get(API).json()["items"][0]["name"] == "ERP 2"


def test_an_idempotent_create_makes_one_subscription(api_client_for, personas):
    client = api_client_for(personas.admin)
    data = {"name": "ERP", "url": PUBLIC_URL, "events": ["sla.breached"]}
    first = post(client, API, data, **{"Idempotency-Key": "create-erp-1"})
    again = post(client, API, data, **{"Idempotency-Key": "create-erp-1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert WebhookSubscription.objects.count() == 1


def test_rotate_returns_the_new_secret_once(api_client_for, personas, hook):
    client = api_client_for(personas.admin)
    response = post(client, f"{API}/{hook.pk}/rotate-secret")
    assert response.status_code == 200
    new = WebhookSubscription.objects.get().secret
    assert response.json()["secret"] == new != hook.secret
    assert new not in client.get(f"{API}/{hook.pk}").content.decode()


@pytest.mark.parametrize(
    ("data", "field", "kind"),
    [
        ({"url": "ftp://files.example.com/in"}, "url", "invalid"),
        ({"url": "http://localhost:8000/hook"}, "url", "self_target"),
        ({"url": "http://127.0.0.1/hook"}, "url", "self_target"),
        ({"events": []}, "events", "required"),
        ({"events": ["work_order.deleted"]}, "events", "invalid_choice"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_bad_input_is_422_on_the_field_and_nothing_is_saved(api_client_for, personas, data, field, kind):
    body = {"name": "ERP", "url": PUBLIC_URL, "events": ["sla.breached"], **data}
    response = post(api_client_for(personas.admin), API, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert response.json()["detail"][0]["type"] == kind
    assert not WebhookSubscription.objects.exists()


def test_the_secret_cannot_be_set(api_client_for, personas, hook):
    client = api_client_for(personas.admin)
    body = {"name": "ERP", "url": PUBLIC_URL, "events": ["sla.breached"], "secret": "mine"}
    assert post(client, API, body).status_code == 422
    assert patch(client, f"{API}/{hook.pk}", {"secret": "mine"}).status_code == 422
    assert patch(client, f"{API}/{hook.pk}", {"url": "http://localhost/"}).status_code == 422
    assert list(WebhookSubscription.objects.values_list("secret", "url")) == [(hook.secret, PUBLIC_URL)]


def test_delete(api_client_for, personas, hook):
    client = api_client_for(personas.admin)
    assert client.delete(f"{API}/{hook.pk}").status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert client.get(f"{API}/{hook.pk}").status_code == 404


def test_deliveries_and_redeliver(api_client_for, personas, hook, django_capture_on_commit_callbacks):
    client = api_client_for(personas.admin)
    failed, sent = deliveries(1, DeliveryStatus.FAILED) + deliveries(1, DeliveryStatus.SENT)
    items = client.get(f"{API}/{hook.pk}/deliveries").json()["items"]
    assert [item["delivery_id"] for item in items] == [sent.key, failed.key]
    assert items[0]["payload"]["event"] == "sla.breached"
    only_failed = client.get(f"{API}/{hook.pk}/deliveries", {"status": "failed"}).json()["items"]
    assert [item["id"] for item in only_failed] == [failed.pk]
    with django_capture_on_commit_callbacks(execute=False):
        response = post(client, f"{API}/{hook.pk}/deliveries/{failed.pk}/redeliver")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    again = post(client, f"{API}/{hook.pk}/deliveries/{failed.pk}/redeliver")
    assert again.status_code == 409 and again.json()["code"] == "not_finished"
    other = factories.webhook_subscription(actor=personas.admin, url="http://hooks40.example.com/in")
    assert post(client, f"{API}/{other.pk}/deliveries/{sent.pk}/redeliver").status_code == 404
    assert WebhookDelivery.objects.get(pk=sent.pk).status == DeliveryStatus.SENT


def test_the_test_endpoint(api_client_for, personas, receiver):
    hook = factories.webhook_subscription(actor=personas.admin, url=receiver.url)
    response = post(api_client_for(personas.admin), f"{API}/{hook.pk}/test")
    assert response.status_code == 200
    result = response.json()
    assert (result["event"], result["status"], result["response_status"]) == ("ping", "sent", 200)
    assert receiver.requests[0]["headers"]["X-FSM-Delivery"] == result["delivery_id"]


@pytest.mark.parametrize("who", OTHERS)
def test_only_administrators_use_the_api(api_client_for, personas, hook, who):
    (delivery,) = deliveries(1, DeliveryStatus.FAILED)
    client = api_client_for(getattr(personas, who))
    body = {"name": "x", "url": "http://hooks99.example.com/x", "events": ["sla.breached"]}
    responses = [
        client.get(API),
        post(client, API, body),
        client.get(f"{API}/{hook.pk}"),
        patch(client, f"{API}/{hook.pk}", {"name": "taken"}),
        client.delete(f"{API}/{hook.pk}"),
        post(client, f"{API}/{hook.pk}/rotate-secret"),
        post(client, f"{API}/{hook.pk}/test"),
        client.get(f"{API}/{hook.pk}/deliveries"),
        post(client, f"{API}/{hook.pk}/deliveries/{delivery.pk}/redeliver"),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert all(hook.secret not in r.content.decode() for r in responses)
    assert list(WebhookSubscription.objects.values_list("name", "secret")) == [("ERP", hook.secret)]
    assert list(WebhookDelivery.objects.values_list("pk", "status")) == [(delivery.pk, DeliveryStatus.FAILED)]


def test_anonymous_calls_are_refused(client, hook):
    assert client.get(API).status_code == 401
