from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fieldservice.inventory.models import Part
from tests import factories

LIST = "/parts/"


@pytest.fixture
def parts(personas):
    return [
        factories.part(part_number="MOTOR-1", name="Servo motor"),
        factories.part(part_number="BELT-1", name="Belt"),
    ]


def test_parts_list_search_and_new_button(client_for, personas, parts):
    client = client_for(personas.parts_keeper)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "MOTOR-1" in body and "BELT-1" in body
    assert reverse("inventory:part_create") in body
    searched = client.get(LIST, {"q": "servo"}).content.decode()
    assert "MOTOR-1" in searched and "BELT-1" not in searched


def test_engineers_see_parts_but_no_new_button(client_for, personas, parts):
    body = client_for(personas.engineer).get(LIST).content.decode()
    assert "MOTOR-1" in body
    assert reverse("inventory:part_create") not in body


def test_customers_have_no_parts_page_but_providers_do(client_for, personas, parts):
    assert client_for(personas.customer_user_a).get(LIST).status_code == 403
    assert "MOTOR-1" in client_for(personas.other_provider_admin).get(LIST).content.decode()


def test_parts_export(client_for, personas, parts):
    response = client_for(personas.dispatcher).get(LIST, {"export": "xlsx"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Part number", "Name", "Specification", "Unit", "Active")
    assert sorted(row[0] for row in rows[1:]) == ["BELT-1", "MOTOR-1"]


def test_parts_keeper_creates_and_edits_a_part(client_for, personas):
    client = client_for(personas.parts_keeper)
    response = client.post(
        reverse("inventory:part_create"), {"part_number": "f-1", "name": "Filter", "unit": "pcs", "is_active": "on"}
    )
    assert response.status_code == 302
    part = Part.objects.get(part_number="F-1")
    response = client.post(
        reverse("inventory:part_edit", args=[part.pk]), {"part_number": "F-1", "name": "Oil filter", "unit": "set"}
    )
    assert response.status_code == 302
    part.refresh_from_db()
    assert (part.name, part.unit, part.is_active) == ("Oil filter", "set", False)


def test_duplicate_part_number_is_shown_on_the_field(client_for, personas, parts):
    response = client_for(personas.parts_keeper).post(
        reverse("inventory:part_create"), {"part_number": "motor-1", "name": "Copy", "unit": "pcs"}
    )
    assert response.status_code == 200
    assert 'id="id_part_number_error"' in response.content.decode()
    assert Part.objects.count() == 2


@pytest.mark.parametrize("who", ["agent", "engineer", "provider_admin"])
def test_roles_without_capability_may_not_create_or_edit(client_for, personas, parts, who):
    client = client_for(getattr(personas, who))
    assert client.get(reverse("inventory:part_create")).status_code == 403
    response = client.post(
        reverse("inventory:part_edit", args=[parts[0].pk]), {"part_number": "X", "name": "X", "unit": "pcs"}
    )
    assert response.status_code == 403
    parts[0].refresh_from_db()
    assert parts[0].name == "Servo motor"
