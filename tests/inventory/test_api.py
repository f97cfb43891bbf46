import pytest

from fieldservice.inventory.models import Part
from tests import factories

API = "/api/v1/parts"


def test_parts_are_listed_with_search(api_client_for, personas):
    factories.part(part_number="MOTOR-1", name="Servo motor")
    factories.part(part_number="BELT-1", name="Belt")
    client = api_client_for(personas.engineer)
    body = client.get(API, {"q": "servo"}).json()
    assert body["count"] == 1
    assert body["items"][0]["part_number"] == "MOTOR-1"


def test_customers_may_not_list_parts(api_client_for, personas):
    factories.part()
    assert api_client_for(personas.customer_user_a).get(API).status_code == 403


def test_parts_keeper_creates_idempotently_and_patches(api_client_for, personas):
    client = api_client_for(personas.parts_keeper)
    data = {"part_number": "f-1", "name": "Filter", "unit": "set"}
    first = client.post(API, data, content_type="application/json", headers={"Idempotency-Key": "p1"})
    assert first.status_code == 201
    again = client.post(API, data, content_type="application/json", headers={"Idempotency-Key": "p1"})
    assert again.json()["id"] == first.json()["id"]
    assert Part.objects.filter(part_number="F-1").count() == 1
    patched = client.patch(f"{API}/{first.json()['id']}", {"name": "Oil filter"}, content_type="application/json")
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["unit"]) == ("Oil filter", "set")
    assert client.get(f"{API}/{first.json()['id']}").json()["name"] == "Oil filter"


def test_duplicate_part_number_is_422(api_client_for, personas):
    factories.part(part_number="F-1")
    response = api_client_for(personas.admin).post(
        API, {"part_number": "f-1", "name": "Copy"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "part_number"]


@pytest.mark.parametrize("who", ["agent", "engineer", "provider_admin"])
def test_changes_need_the_capability(api_client_for, personas, who):
    part = factories.part(name="Original")
    client = api_client_for(getattr(personas, who))
    assert client.post(API, {"part_number": "N-1", "name": "N"}, content_type="application/json").status_code == 403
    assert client.patch(f"{API}/{part.pk}", {"name": "Hacked"}, content_type="application/json").status_code == 403
    part.refresh_from_db()
    assert part.name == "Original"
    assert not Part.objects.filter(part_number="N-1").exists()


def test_unknown_part_is_404(api_client_for, personas):
    assert api_client_for(personas.admin).get(f"{API}/999999").status_code == 404
