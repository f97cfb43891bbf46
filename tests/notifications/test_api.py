"""API: a user's own notifications only; another user's are 404 and stay unchanged."""

from fieldservice.notifications import services
from fieldservice.notifications.models import Notification

BASE = "/api/v1/notifications"


def test_the_list_is_the_users_own_unread_first(personas, api_client_for, notify_user):
    first = notify_user(personas.agent, title="FIRST")
    second = notify_user(personas.agent, title="SECOND")
    notify_user(personas.dispatcher, title="THEIRS")
    Notification.objects.create(recipient=personas.agent, event="x", title="undelivered", key="undelivered:1")
    services.mark_read(second, actor=personas.agent)
    client = api_client_for(personas.agent)
    response = client.get(BASE)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [item["id"] for item in data["items"]] == [first.pk, second.pk]
    assert data["items"][0]["unread"] is True and data["items"][1]["unread"] is False
    assert data["items"][0]["url"] == "/orders/1/" and "FIRST" in data["items"][0]["title"]
    unread = client.get(BASE, {"unread": "1"}).json()
    assert [item["id"] for item in unread["items"]] == [first.pk]
    assert client.get(f"{BASE}/unread-count").json() == {"unread": 1}
    assert api_client_for(personas.dispatcher).get(f"{BASE}/unread-count").json() == {"unread": 1}


def test_read_and_read_all(personas, api_client_for, notify_user):
    one = notify_user(personas.agent)
    notify_user(personas.agent)
    theirs = notify_user(personas.dispatcher)
    client = api_client_for(personas.agent)
    response = client.post(f"{BASE}/{one.pk}/read")
    assert response.status_code == 200 and response.json()["unread"] is False
    assert client.post(f"{BASE}/read-all").json() == {"marked": 1}
    assert client.get(f"{BASE}/unread-count").json() == {"unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_another_users_notification_is_not_found_and_unchanged(personas, api_client_for, notify_user):
    theirs = notify_user(personas.dispatcher)
    for who in ("agent", "admin", "customer_user_a", "provider_admin"):
        client = api_client_for(getattr(personas, who))
        assert client.post(f"{BASE}/{theirs.pk}/read").status_code == 404
        assert theirs.pk not in [item["id"] for item in client.get(BASE).json()["items"]]
    assert client.post(f"{BASE}/999999/read").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_api_needs_a_signed_in_user(client, personas, notify_user):
    note = notify_user(personas.agent)
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/unread-count").status_code == 401
    assert client.post(f"{BASE}/{note.pk}/read").status_code == 401
    assert client.post(f"{BASE}/read-all").status_code == 401
    assert Notification.objects.get(pk=note.pk).read_at is None
