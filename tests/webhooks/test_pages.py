"""Webhook pages: administrators only; the secret shown once; the delivery log and its buttons."""

import pytest
from django.test import override_settings
from django.urls import reverse

from fieldservice.core import destinations
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription
from tests import factories
from tests.webhooks.conftest import OTHERS, PUBLIC_URL, deliveries

LIST = reverse("webhooks:list")
CREATE = reverse("webhooks:create")


def urls(hook, delivery) -> list[tuple[str, str]]:
    return [
        ("get", LIST),
        ("get", CREATE),
        ("post", CREATE),
        ("get", reverse("webhooks:detail", args=[hook.pk])),
        ("get", reverse("webhooks:edit", args=[hook.pk])),
        ("post", reverse("webhooks:edit", args=[hook.pk])),
        ("get", reverse("webhooks:delete", args=[hook.pk])),
        ("post", reverse("webhooks:delete", args=[hook.pk])),
        ("get", reverse("webhooks:rotate", args=[hook.pk])),
        ("post", reverse("webhooks:rotate", args=[hook.pk])),
        ("post", reverse("webhooks:test", args=[hook.pk])),
        ("post", reverse("webhooks:redeliver", args=[hook.pk, delivery.pk])),
    ]


@pytest.mark.parametrize("who", OTHERS)
def test_only_administrators_see_the_pages(client_for, personas, hook, who):
    (delivery,) = deliveries(1, DeliveryStatus.FAILED)
    client = client_for(getattr(personas, who))
    data = {"name": "taken", "url": "http://hooks99.example.com/x", "events": ["sla.breached"], "active": "on"}
    for method, url in urls(hook, delivery):
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 403, (method, url)
        assert hook.secret not in response.content.decode()
    hook_after = WebhookSubscription.objects.get()
    assert (hook_after.name, hook_after.url, hook_after.secret) == ("ERP", PUBLIC_URL, hook.secret)
    assert list(WebhookDelivery.objects.values_list("pk", "status")) == [(delivery.pk, DeliveryStatus.FAILED)]


def test_anonymous_visitors_are_sent_to_log_in(client, hook):
    response = client.get(reverse("webhooks:detail", args=[hook.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_creating_shows_the_secret_once(client_for, personas):
    client = client_for(personas.admin)
    assert client.get(CREATE).status_code == 200
    response = client.post(
        CREATE, {"name": "ERP", "url": PUBLIC_URL, "events": ["work_order.created", "sla.breached"], "active": "on"}
    )
    hook = WebhookSubscription.objects.get()
    body = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert hook.secret in body and "will not be shown again" in body
    assert hook.events == ["work_order.created", "sla.breached"] and hook.created_by == personas.admin
    # Never again: not on the pages, not in the session.
    for url in (LIST, reverse("webhooks:detail", args=[hook.pk]), reverse("webhooks:edit", args=[hook.pk])):
        page = client.get(url)
        assert page.status_code == 200 and hook.secret not in page.content.decode()
    assert hook.secret not in str(dict(client.session))
    assert client.get(LIST, {"export": "xlsx"}).status_code == 200


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://files.example.com/in", "Enter an http:// or https:// address."),
        ("http://localhost/hook", "This address points to this server itself."),
        ("http://127.0.0.1/hook", "This address points to this server itself."),
        ("https://fsm.example.com/in", "This address points to this server itself."),
    ],
)
@override_settings(FSM_PUBLIC_BASE_URL="https://fsm.example.com")
def test_a_bad_address_is_a_field_error_and_nothing_is_saved(client_for, personas, url, message):
    response = client_for(personas.admin).post(CREATE, {"name": "ERP", "url": url, "events": ["sla.breached"]})
    assert response.status_code == 200
    assert response.context["form"].errors == {"url": [message]}
    assert not WebhookSubscription.objects.exists()


def test_events_are_required(client_for, personas):
    response = client_for(personas.admin).post(CREATE, {"name": "ERP", "url": PUBLIC_URL})
    assert list(response.context["form"].errors) == ["events"]
    assert not WebhookSubscription.objects.exists()


def test_editing_changes_everything_but_the_secret(client_for, personas, hook):
    client = client_for(personas.admin)
    url = reverse("webhooks:edit", args=[hook.pk])
    response = client.post(url, {"name": "ERP", "url": "http://localhost/x", "events": ["sla.breached"]})
    assert response.context["form"].errors == {"url": ["This address points to this server itself."]}
    assert WebhookSubscription.objects.get().url == PUBLIC_URL
    response = client.post(
        url,
        {"name": "ERP prod", "url": "http://hooks20.example.com/in", "events": ["evaluation.received"], "secret": "x"},
    )
    assert response.status_code == 302
    after = WebhookSubscription.objects.get()
    assert (after.name, after.url, after.events, after.active) == (
        "ERP prod",
        "http://hooks20.example.com/in",
        ["evaluation.received"],
        False,
    )
    assert after.secret == hook.secret


def test_deleting_asks_first(client_for, personas, hook):
    client = client_for(personas.admin)
    url = reverse("webhooks:delete", args=[hook.pk])
    assert "Delete the webhook ERP" in client.get(url).content.decode()
    assert WebhookSubscription.objects.exists()
    assert client.post(url).status_code == 302
    assert not WebhookSubscription.objects.exists()


def test_rotating_shows_the_new_secret_once(client_for, personas, hook):
    client = client_for(personas.admin)
    url = reverse("webhooks:rotate", args=[hook.pk])
    confirm = client.get(url).content.decode()
    assert "stops working" in confirm and hook.secret not in confirm
    assert WebhookSubscription.objects.get().secret == hook.secret
    response = client.post(url)
    new = WebhookSubscription.objects.get().secret
    assert new != hook.secret and new in response.content.decode() and hook.secret not in response.content.decode()
    assert new not in client.get(reverse("webhooks:detail", args=[hook.pk])).content.decode()


def test_the_list_searches_and_shows_an_empty_state(client_for, personas, hook):
    factories.webhook_subscription(
        actor=personas.admin, name="Data lake", url="http://hooks30.example.com/in", active=False
    )
    client = client_for(personas.admin)
    assert [s.name for s in client.get(LIST).context["objects"]] == ["Data lake", "ERP"]
    assert [s.name for s in client.get(LIST, {"q": "lake"}).context["objects"]] == ["Data lake"]
    assert [s.name for s in client.get(LIST, {"q": "hooks10.example.com"}).context["objects"]] == ["ERP"]
    assert [s.name for s in client.get(LIST, {"active": "yes"}).context["objects"]] == ["ERP"]
    assert "No webhooks match this search." in client.get(LIST, {"q": "nothing"}).content.decode()
    WebhookSubscription.objects.all().delete()
    assert "No webhooks yet." in client.get(LIST).content.decode()


def test_the_delivery_log_filters_and_pages(client_for, personas, hook):
    client = client_for(personas.admin)
    url = reverse("webhooks:detail", args=[hook.pk])
    assert "Nothing sent yet." in client.get(url).content.decode()
    failed = deliveries(2, DeliveryStatus.FAILED)
    WebhookDelivery.objects.filter(pk=failed[0].pk).update(last_error="HTTP 502: bad gateway", response_status=502)
    deliveries(30, DeliveryStatus.SENT)
    response = client.get(url)
    assert response.context["page"].paginator.count == 32 and len(response.context["objects"]) == 25
    assert len(client.get(url, {"page": 2}).context["objects"]) == 7
    response = client.get(url, {"status": "failed"})
    assert {d.pk for d in response.context["objects"]} == {d.pk for d in failed}
    body = response.content.decode()
    assert "HTTP 502: bad gateway" in body and failed[0].key in body and "Redeliver" in body
    assert client.get(url, {"event": "ping"}).context["page"].paginator.count == 0
    assert "No deliveries match these filters." in client.get(url, {"event": "ping"}).content.decode()
    assert client.get(url, {"export": "xlsx"}).status_code == 200
    # Another subscription's log is its own.
    other = factories.webhook_subscription(
        actor=personas.admin, url="http://hooks40.example.com/in", events=["sla.breached"]
    )
    assert client.get(reverse("webhooks:detail", args=[other.pk])).context["page"].paginator.count == 0


def test_redeliver_button(client_for, personas, hook, django_capture_on_commit_callbacks):
    client = client_for(personas.admin)
    (failed,) = deliveries(1, DeliveryStatus.FAILED)
    (pending,) = deliveries(1, DeliveryStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("webhooks:redeliver", args=[hook.pk, failed.pk]), follow=True)
    assert f"Delivery {failed.key} will be sent again." in response.content.decode()
    assert WebhookDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.PENDING and len(callbacks) == 1
    response = client.post(reverse("webhooks:redeliver", args=[hook.pk, pending.pk]), follow=True)
    assert "still being sent" in response.content.decode()
    # A delivery of another subscription is not found through this one.
    other = factories.webhook_subscription(actor=personas.admin, url="http://hooks40.example.com/in")
    assert client.post(reverse("webhooks:redeliver", args=[other.pk, failed.pk])).status_code == 404
    assert client.get(reverse("webhooks:redeliver", args=[hook.pk, failed.pk])).status_code == 405


def test_the_test_button_shows_the_answer(client_for, personas, receiver):
    hook = factories.webhook_subscription(actor=personas.admin, url=receiver.url, events=["sla.breached"])
    client = client_for(personas.admin)
    response = client.post(reverse("webhooks:test", args=[hook.pk]), follow=True)
    assert "Test sent: the receiver answered HTTP 200." in response.content.decode()
    assert receiver.requests[0]["headers"]["X-FSM-Event"] == "ping"
    receiver.answers.append(500)
    response = client.post(reverse("webhooks:test", args=[hook.pk]), follow=True)
    assert "Test failed: HTTP 500" in response.content.decode()
    log = client.get(reverse("webhooks:detail", args=[hook.pk]), {"event": "ping"})
    assert [d.status for d in log.context["objects"]] == [DeliveryStatus.FAILED, DeliveryStatus.SENT]


def test_the_test_button_with_a_receiver_that_is_down(client_for, personas, dead_url):
    hook = factories.webhook_subscription(actor=personas.admin, url=dead_url)
    response = client_for(personas.admin).post(reverse("webhooks:test", args=[hook.pk]), follow=True)
    assert "Test failed:" in response.content.decode() and "refused" in response.content.decode().lower()
    # A ping is not retried: nothing is left for the recovery.
    assert destinations.recover() == {"released": 0, "pumps": []}


def test_the_admin_never_shows_the_secret(client, hook, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    deliveries(1)
    for url in (
        reverse("admin:webhooks_webhooksubscription_changelist"),
        reverse("admin:webhooks_webhooksubscription_change", args=[hook.pk]),
        reverse("admin:webhooks_webhookdelivery_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert WebhookSubscription.objects.get().secret not in response.content.decode()
    assert client.get(reverse("admin:webhooks_webhooksubscription_add")).status_code == 403
