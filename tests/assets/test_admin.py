import pytest
from django.urls import reverse

from fieldservice.assets.models import Equipment


@pytest.fixture
def admin_client_(client, world, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    return client


@pytest.mark.parametrize(
    "name", ["assets_productmodel", "assets_equipment", "assets_equipmentdocument", "inventory_part"]
)
def test_admin_lists_and_add_pages_render(admin_client_, name):
    assert admin_client_.get(reverse(f"admin:{name}_changelist"), {"q": "A-0001"}).status_code == 200
    assert admin_client_.get(reverse(f"admin:{name}_add")).status_code == 200


def test_admin_change_pages_render_with_status_and_token_read_only(admin_client_, world):
    assert admin_client_.get(reverse("admin:assets_productmodel_change", args=[world.model.pk])).status_code == 200
    response = admin_client_.get(reverse("admin:assets_equipment_change", args=[world.machine_a.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.machine_a.public_token in body
    assert 'name="status"' not in body
    assert 'name="public_token"' not in body
    assert Equipment.objects.get(pk=world.machine_a.pk).status == "registered"
