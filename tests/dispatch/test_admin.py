from django.urls import reverse

from fieldservice.dispatch.assignments import services
from fieldservice.dispatch.models import Assignment


def test_assignment_admin_lists_filters_and_keeps_status_read_only(client, world, django_user_model):
    assignment = services.dispatch_to_engineer(world.order, actor=world.dispatcher, engineer=world.engineer)
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    changelist = reverse("admin:dispatch_assignment_changelist")
    assert client.get(changelist).status_code == 200
    assert (
        world.order.number
        in client.get(changelist, {"status__exact": "offered", "role__exact": "lead"}).content.decode()
    )
    assert world.order.number not in client.get(changelist, {"status__exact": "accepted"}).content.decode()
    assert client.get(changelist, {"q": world.order.number}).status_code == 200
    response = client.get(reverse("admin:dispatch_assignment_change", args=[assignment.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="status"' not in body and 'name="engineer"' in body
    assert Assignment.objects.get(pk=assignment.pk).status == "offered"
