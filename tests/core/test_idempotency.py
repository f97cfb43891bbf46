"""core.api.idempotent: a retry with the same key and body returns the first object; the same key
with another body is refused (422), as is a key whose object has been deleted since (410)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fieldservice.customers.models import Contact, Customer
from tests import factories

API = "/api/v1"


def post(client, url, data, key):
    return client.post(url, data, content_type="application/json", headers={"Idempotency-Key": key})


def test_same_key_same_body_in_another_key_order_returns_the_first_object(api_client_for, personas):
    client = api_client_for(personas.agent)
    first = post(client, f"{API}/customers", {"name": "Hangzhou", "tier": "key"}, "k-1")
    again = post(client, f"{API}/customers", {"tier": "key", "name": "Hangzhou"}, "k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert Customer.objects.filter(name="Hangzhou").count() == 1


@pytest.mark.parametrize(
    "other", [{"name": "Ningbo"}, {"name": "Hangzhou", "tier": "key"}, {"name": "Hangzhou", "notes": "x"}]
)
def test_same_key_with_another_body_is_422(api_client_for, personas, other):
    client = api_client_for(personas.agent)
    first = post(client, f"{API}/customers", {"name": "Hangzhou"}, "k-2")
    assert first.status_code == 201
    response = post(client, f"{API}/customers", other, "k-2")
    assert response.status_code == 422, response.content
    assert "different request" in response.json()["detail"]
    assert not Customer.objects.filter(name="Ningbo").exists()
    assert Customer.objects.filter(name="Hangzhou").count() == 1


def test_same_key_with_another_upload_is_422(api_client_for, personas):
    request = factories.service_request(personas.customer_a, actor=personas.admin)
    client = api_client_for(personas.agent)
    url = f"{API}/requests/{request.pk}/attachments"

    def upload(content: bytes, name="a.pdf"):
        pdf = SimpleUploadedFile(name, b"%PDF-1.4\n" + content + b"\n%%EOF\n", content_type="application/pdf")
        return client.post(url, {"file": pdf, "kind": "document"}, headers={"Idempotency-Key": "up-1"})

    first = upload(b"one")
    again = upload(b"one")
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert first.json()["id"] == again.json()["id"]
    other = upload(b"two")
    assert other.status_code == 422, other.content
    assert request.attachments.count() == 1


def test_replaying_a_key_after_its_object_was_deleted_is_410_not_500(api_client_for, personas):
    client = api_client_for(personas.agent)
    body = {"name": "Wang Fang", "phone": "13800138001"}
    first = post(client, f"{API}/customers/{personas.customer_a.pk}/contacts", body, "c-1")
    assert first.status_code == 201, first.content
    assert client.delete(f"{API}/contacts/{first.json()['id']}").status_code == 204
    again = post(client, f"{API}/customers/{personas.customer_a.pk}/contacts", body, "c-1")
    assert again.status_code == 410, again.content
    assert not Contact.objects.filter(name="Wang Fang").exists()
