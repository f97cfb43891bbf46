"""The Django admin keeps reference data valid too."""

from fieldservice.accounts.models import ServiceArea, User


def _post(client, area, polygon):
    return client.post(
        f"/admin/accounts/servicearea/{area.pk}/change/",
        {"name": area.name, "province": area.province, "city": area.city, "district": "", "polygon": polygon},
    )


def test_the_area_admin_refuses_a_boundary_that_does_not_close(db, client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-123456789"))
    area = ServiceArea.objects.create(name="Ningbo test", province="浙江省", city="宁波市")

    response = _post(client, area, "[[121.0, 29.6], [122.0, 29.6], [122.0, 30.4], [121.0, 30.4]]")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["polygon"]
    area.refresh_from_db()
    assert area.polygon == []

    response = _post(client, area, "[[121.0, 29.6], [122.0, 29.6], [122.0, 30.4], [121.0, 29.6]]")
    assert response.status_code == 302
    area.refresh_from_db()
    assert area.polygon == [[121.0, 29.6], [122.0, 29.6], [122.0, 30.4], [121.0, 29.6]]
