"""Pages: the bell, the list, preferences, and the administrators' pages."""

import pytest
from django.urls import reverse

from fieldservice.notifications import services
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import (
    Delivery,
    ImEndpoint,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    SmsGateway,
)

LIST = reverse("notifications:list")
BELL = reverse("notifications:bell")
PREFERENCES = reverse("notifications:preferences")


def _unread_badge(html: str) -> str | None:
    marker = 'data-unread="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_the_bell_counts_the_users_own_unread_notifications(personas, client_for, notify_user):
    for _ in range(3):
        notify_user(personas.agent)
    notify_user(personas.dispatcher)
    # Not yet delivered in the app: not counted.
    Notification.objects.create(recipient=personas.agent, event="x", title="pending", key="pending:1")
    client = client_for(personas.agent)
    page = client.get(reverse("home")).content.decode()
    assert 'id="notification-bell"' in page and _unread_badge(page) == "3"
    fragment = client.get(BELL, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and _unread_badge(body) == "3"
    assert 'hx-trigger="every 30s"' in body and f'href="{LIST}"' in body
    assert _unread_badge(client_for(personas.dispatcher).get(BELL).content.decode()) == "1"
    assert _unread_badge(client_for(personas.engineer).get(BELL).content.decode()) is None


def test_the_bell_signed_out_leaves_the_page_alone(client):
    assert client.get(BELL).status_code == 204


def test_the_list_shows_only_the_users_own_unread_first(personas, client_for, notify_user):
    old = notify_user(personas.agent, title="OLDONE")
    notify_user(personas.agent, title="NEWONE")
    notify_user(personas.dispatcher, title="NOTYOURS")
    services.mark_read(Notification.objects.get(title__contains="NEWONE"), actor=personas.agent)
    response = client_for(personas.agent).get(LIST)
    assert response.status_code == 200
    titles = [n.title for n in response.context["objects"]]
    assert len(titles) == 2 and "OLDONE" in titles[0] and "NEWONE" in titles[1]  # unread first
    assert "NOTYOURS" not in response.content.decode()
    unread = client_for(personas.agent).get(LIST, {"unread": "1"})
    assert [n.pk for n in unread.context["objects"]] == [old.pk]


def test_the_list_is_paginated_and_has_an_empty_state(personas, client_for, notify_user):
    client = client_for(personas.agent)
    assert "No notifications yet" in client.get(LIST).content.decode()
    for _ in range(27):
        notify_user(personas.agent)
    response = client.get(LIST)
    assert len(response.context["objects"]) == 25
    assert len(client.get(LIST, {"page": 2}).context["objects"]) == 2
    client.post(reverse("notifications:read_all"))
    assert "No unread notifications" in client.get(LIST, {"unread": "1"}).content.decode()


def test_mark_read_and_open(personas, client_for, notify_user):
    note = notify_user(personas.agent, url="/orders/42/")
    other = notify_user(personas.agent)
    client = client_for(personas.agent)
    response = client.post(reverse("notifications:read", args=[note.pk]), {"next": f"{LIST}?unread=1"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}?unread=1"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    response = client.post(reverse("notifications:open", args=[other.pk]))
    assert response.status_code == 302 and response["Location"] == "/orders/1/"
    assert Notification.objects.get(pk=other.pk).read_at is not None
    assert client.get(reverse("notifications:read", args=[note.pk])).status_code == 405


def test_nobody_reads_or_marks_another_users_notification(personas, client_for, notify_user):
    theirs = notify_user(personas.dispatcher)
    client = client_for(personas.agent)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    client.post(reverse("notifications:read_all"))
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    admin = client_for(personas.admin)
    assert admin.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_read_all(personas, client_for, notify_user):
    notify_user(personas.agent)
    notify_user(personas.agent)
    client = client_for(personas.agent)
    assert client.post(reverse("notifications:read_all")).status_code == 302
    assert not Notification.objects.filter(recipient=personas.agent, read_at__isnull=True).exists()
    assert _unread_badge(client.get(BELL).content.decode()) is None


def test_the_preferences_page(personas, client_for):
    client = client_for(personas.agent)
    page = client.get(PREFERENCES).content.decode()
    assert "Always on" in page and "cannot be turned off" in page and "SLA deadline missed" in page
    assert 'name="sla.breached__in_app"' not in page
    data = {"all__in_app": "on", "all__email": "", "sla.warning__email": "on", "all__sms": "on"}
    response = client.post(PREFERENCES, data)
    assert response.status_code == 302
    rows = services.preferences_of(personas.agent)
    assert rows[("", Channel.EMAIL)] is False and rows[("sla.warning", Channel.EMAIL)] is True
    assert rows[("", Channel.SMS)] is True and rows[("", Channel.IM)] is False
    # Posting the switch off for a breach anyway changes nothing and says why.
    response = client.post(PREFERENCES, {**data, "sla.breached__in_app": "off", "all__sms": ""})
    assert response.status_code == 302
    assert services.is_enabled(services.preferences_of(personas.agent), "sla.breached", Channel.IN_APP)


def test_the_preferences_page_refuses_an_unknown_value(personas, client_for):
    response = client_for(personas.agent).post(PREFERENCES, {"all__in_app": "on", "sla.warning__email": "maybe"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not NotificationPreference.objects.exists()


# --- administrators --------------------------------------------------------------------------------


ADMIN_PAGES = [
    ("notifications:manage", []),
    ("notifications:template_list", []),
    ("notifications:template_edit", ["sla.warning", "en"]),
    ("notifications:im_list", []),
    ("notifications:im_create", []),
    ("notifications:sms_list", []),
    ("notifications:sms_create", []),
    ("notifications:delivery_list", []),
]


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 200), ("dispatcher", 403), ("director", 403), ("provider_admin", 403), ("customer_user_a", 403)],
)
def test_admin_pages_are_for_administrators(personas, client_for, name, args, who, status):
    assert client_for(getattr(personas, who)).get(reverse(name, args=args)).status_code == status


def test_admin_posts_are_refused_to_others_and_change_nothing(personas, client_for, settings, notify_user):
    settings.FSM_OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = ImEndpoint.objects.create(name="ops", url="http://127.0.0.1:9/")
    gateway = SmsGateway.objects.create(name="gw", url="http://127.0.0.1:9/")
    delivery = Delivery.objects.get(notification=notify_user(personas.agent))
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    client = client_for(personas.dispatcher)
    posts = [
        (reverse("notifications:template_edit", args=["sla.warning", "en"]), {"subject": "hacked", "body": ""}),
        (reverse("notifications:template_reset", args=["sla.warning", "en"]), {}),
        (reverse("notifications:im_create"), {"name": "x", "kind": "generic", "url": "http://127.0.0.1:9/"}),
        (
            reverse("notifications:im_edit", args=[endpoint.pk]),
            {"name": "hacked", "kind": "generic", "url": "http://127.0.0.1:9/"},
        ),
        (reverse("notifications:im_delete", args=[endpoint.pk]), {}),
        (reverse("notifications:im_test", args=[endpoint.pk]), {}),
        (reverse("notifications:sms_delete", args=[gateway.pk]), {}),
        (reverse("notifications:sms_test", args=[gateway.pk]), {"phone": "1"}),
        (reverse("notifications:delivery_retry", args=[delivery.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert NotificationTemplate.objects.get(event="sla.warning", language="en").subject != "hacked"
    assert list(ImEndpoint.objects.values_list("name", flat=True)) == ["ops"]
    assert SmsGateway.objects.count() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


def test_editing_a_text_with_preview_and_errors(personas, client_for):
    client = client_for(personas.admin)
    url = reverse("notifications:template_edit", args=["sla.warning", "zh-hans"])
    page = client.get(url)
    assert page.status_code == 200 and "SLA 预警：WO0000123" in page.content.decode()  # preview, sample values
    response = client.post(url, {"subject": "Due {{ due_at }}", "body": "x", "preview": "1"})
    assert "Due 2025-06-01 14:00" in response.content.decode()
    assert NotificationTemplate.objects.get(event="sla.warning", language="zh-hans").subject.startswith("SLA")
    response = client.post(url, {"subject": "{% if %}", "body": "x"})
    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    assert NotificationTemplate.objects.get(event="sla.warning", language="zh-hans").subject.startswith("SLA")
    response = client.post(url, {"subject": "到期 {{ due_at }}", "body": "x"})
    assert response.status_code == 302
    assert NotificationTemplate.objects.get(event="sla.warning", language="zh-hans").subject == "到期 {{ due_at }}"
    client.post(reverse("notifications:template_reset", args=["sla.warning", "zh-hans"]))
    assert NotificationTemplate.objects.get(event="sla.warning", language="zh-hans").subject.startswith("SLA")
    assert client.get(reverse("notifications:template_edit", args=["nope", "en"])).status_code == 404


def test_secrets_are_never_shown_after_saving(personas, client_for, settings):
    settings.FSM_OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    client = client_for(personas.admin)
    response = client.post(
        reverse("notifications:im_create"),
        {
            "name": "ops",
            "kind": "dingtalk",
            "url": "http://127.0.0.1:9/robot",
            "secret": "SEC-very-secret",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = ImEndpoint.objects.get()
    assert endpoint.secret == "SEC-very-secret"
    edit = reverse("notifications:im_edit", args=[endpoint.pk])
    for url in (reverse("notifications:im_list"), edit):
        body = client.get(url).content.decode()
        assert "SEC-very-secret" not in body
        assert ">set<" in body or "A secret is set" in body
    # Saving with the field empty keeps it; a failed save does not echo it either.
    client.post(edit, {"name": "ops 2", "kind": "dingtalk", "url": "http://127.0.0.1:9/robot", "is_active": "on"})
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.secret) == ("ops 2", "SEC-very-secret")
    response = client.post(edit, {"name": "ops", "kind": "dingtalk", "url": "ftp://x", "secret": "SEC-new-one"})
    assert response.status_code == 200 and "SEC-new-one" not in response.content.decode()
    assert "url" in response.context["form"].errors
    endpoint.refresh_from_db()
    assert endpoint.secret == "SEC-very-secret"
    client.post(edit, {"name": "ops", "kind": "dingtalk", "url": "http://127.0.0.1:9/robot", "clear_secret": "on"})
    endpoint.refresh_from_db()
    assert endpoint.secret == ""


def test_sms_gateway_pages_and_test_button(personas, client_for, receiver):
    client = client_for(personas.admin)
    response = client.post(
        reverse("notifications:sms_create"), {"name": "gw", "url": receiver.url, "secret": "gw-key", "is_active": "on"}
    )
    assert response.status_code == 302
    gateway = SmsGateway.objects.get()
    body = client.get(reverse("notifications:sms_list")).content.decode()
    assert "gw-key" not in body and "gw" in body
    response = client.post(
        reverse("notifications:sms_test", args=[gateway.pk]), {"phone": "+8613800000000"}, follow=True
    )
    assert "HTTP 200" in response.content.decode()
    (request,) = receiver.requests
    assert request["json"]["phone"] == "+8613800000000" and receiver.signature_ok(request, "gw-key")
    receiver.statuses = [500]
    response = client.post(reverse("notifications:sms_test", args=[gateway.pk]), {"phone": "+86138"}, follow=True)
    assert "The test message failed" in response.content.decode()


def test_im_test_button_and_delete(personas, client_for, receiver):
    endpoint = ImEndpoint.objects.create(name="ops", url=receiver.url, kind="wecom")
    client = client_for(personas.admin)
    response = client.post(reverse("notifications:im_test", args=[endpoint.pk]), follow=True)
    assert "HTTP 200" in response.content.decode()
    assert receiver.requests[0]["json"]["msgtype"] == "text"
    client.post(reverse("notifications:im_delete", args=[endpoint.pk]))
    assert not ImEndpoint.objects.exists()


def test_the_delivery_log_filters_and_retries(personas, client_for, notify_user, django_capture_on_commit_callbacks):
    personas.agent.email = "agent@example.com"
    personas.agent.save()
    note = notify_user(personas.agent)
    email = Delivery.objects.get(notification=note, channel=Channel.EMAIL)
    Delivery.objects.filter(pk=email.pk).update(status=DeliveryStatus.FAILED, attempts=6, last_error="SMTP down")
    client = client_for(personas.admin)
    url = reverse("notifications:delivery_list")
    response = client.get(url, {"status": "failed"})
    assert [d.pk for d in response.context["objects"]] == [email.pk]
    assert "SMTP down" in response.content.decode()
    assert len(client.get(url, {"channel": "in_app"}).context["objects"]) == 1
    assert len(client.get(url).context["objects"]) == 2
    assert "No deliveries match" in client.get(url, {"status": "sending"}).content.decode()
    assert client.get(url, {"export": "xlsx"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:delivery_retry", args=[email.pk]))
    assert response.status_code == 302
    email.refresh_from_db()
    assert (email.status, email.attempts) == (DeliveryStatus.SENT, 1)
