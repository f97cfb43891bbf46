"""Subscription services: who may manage them, the address and event checks, the secret."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from fieldservice.core import outbox
from fieldservice.core.destinations import Attempt
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from fieldservice.webhooks import consumers, services
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription
from tests import factories
from tests.webhooks.conftest import OTHERS, PUBLIC_URL


def events_of(subscription):
    return Event.objects.filter(
        content_type=ContentType.objects.get_for_model(WebhookSubscription), object_pk=str(subscription.pk)
    )


def field_error(excinfo) -> tuple[str, str]:
    ((field, errors),) = excinfo.value.error_dict.items()
    return field, errors[0].code


def create(personas, **fields):
    fields.setdefault("name", "ERP")
    fields.setdefault("url", PUBLIC_URL)
    fields.setdefault("events", ["work_order.created"])
    return services.create_subscription(actor=personas.admin, **fields)


def test_an_administrator_creates_a_subscription_with_a_secret(personas):
    subscription = create(personas, events=["sla.breached", "work_order.created", "sla.breached"])
    assert subscription.created_by == personas.admin and subscription.active
    assert subscription.events == ["work_order.created", "sla.breached"]  # documented order, no repeats
    assert len(subscription.secret) == 43  # secrets.token_urlsafe(32)
    assert create(personas).secret != subscription.secret
    event = events_of(subscription).get(action="created")
    assert event.changes["url"] == [None, PUBLIC_URL]
    assert subscription.secret not in str(event.changes)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://files.example.com/in", "invalid"),
        ("javascript:alert(1)", "invalid"),
        ("hooks.example.com/in", "invalid"),
        ("", "required"),
        ("http://localhost/hook", "self_target"),
        ("http://LOCALHOST:9000/hook", "self_target"),
        ("http://127.0.0.1/hook", "self_target"),
        ("http://127.0.0.2:8080/hook", "self_target"),
        ("http://[::1]/hook", "self_target"),
        ("http://0.0.0.0/hook", "self_target"),
        ("https://fsm.example.com/hooks", "self_target"),
        ("http://" + "a" * 500 + ".com/", "max_length"),
    ],
)
@override_settings(FSM_PUBLIC_BASE_URL="https://fsm.example.com")
def test_addresses_that_are_not_http_or_point_here_are_refused(personas, url, code):
    events = Event.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        create(personas, url=url)
    assert field_error(excinfo) == ("url", code)
    assert not WebhookSubscription.objects.exists() and Event.objects.count() == events


def test_loopback_is_allowed_only_when_listed(personas):
    with pytest.raises(ValidationError):
        create(personas, url="http://127.0.0.1:8765/hook")
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]):
        assert create(personas, url="http://127.0.0.1:8765/hook").url == "http://127.0.0.1:8765/hook"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"events": []}, ("events", "required")),
        ({"events": ["work_order.deleted"]}, ("events", "invalid_choice")),
        ({"events": ["ping"]}, ("events", "invalid_choice")),
        ({"events": "work_order.created"}, ("events", "invalid")),
        ({"name": "  "}, ("name", "required")),
        ({"name": "x" * 101}, ("name", "max_length")),
        ({"active": "yes"}, ("active", "invalid")),
    ],
)
def test_bad_fields_are_named_and_nothing_is_saved(personas, fields, expected):
    with pytest.raises(ValidationError) as excinfo:
        create(personas, **fields)
    assert field_error(excinfo) == expected
    assert not WebhookSubscription.objects.exists()


def test_an_update_changes_the_fields_but_never_the_secret(personas):
    subscription = create(personas)
    secret = subscription.secret
    services.update_subscription(
        subscription, actor=personas.admin, name="ERP 2", events=["evaluation.received"], active=False
    )
    subscription.refresh_from_db()
    assert (subscription.name, subscription.events, subscription.active) == ("ERP 2", ["evaluation.received"], False)
    assert subscription.secret == secret
    with pytest.raises(ValidationError) as excinfo:
        services.update_subscription(subscription, actor=personas.admin, secret="mine")
    assert field_error(excinfo) == ("secret", "unknown_field")
    with pytest.raises(ValidationError) as excinfo:
        services.update_subscription(subscription, actor=personas.admin, name="ERP 3", url="http://localhost/")
    assert field_error(excinfo) == ("url", "self_target")
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url, subscription.secret) == ("ERP 2", PUBLIC_URL, secret)
    event = events_of(subscription).get(action="updated")
    assert set(event.changes) == {"name", "events", "active"}


def test_rotating_makes_a_new_secret_and_logs_without_it(personas):
    subscription = create(personas)
    old = subscription.secret
    rotated = services.rotate_secret(subscription, actor=personas.admin)
    assert rotated.secret != old and len(rotated.secret) == 43
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == rotated.secret
    event = events_of(subscription).get(action="secret_rotated")
    assert rotated.secret not in f"{event.changes} {event.note}" and old not in f"{event.changes} {event.note}"


def test_deleting_removes_the_log_too(personas):
    subscription = create(personas, events=["sla.breached"])
    consumers.consume(outbox.emit("sla.breached", {"work_order": 1}))
    assert WebhookDelivery.objects.count() == 1
    services.delete_subscription(subscription, actor=personas.admin)
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert events_of(subscription).filter(action="deleted").exists()


@pytest.mark.parametrize("who", OTHERS)
def test_only_administrators_manage_webhooks(personas, who):
    subscription = create(personas)
    delivery = WebhookDelivery.objects.create(subscription=subscription, event="ping", status=DeliveryStatus.FAILED)
    actor = getattr(personas, who)
    secret = subscription.secret
    calls = [
        lambda: services.create_subscription(actor=actor, name="x", url=PUBLIC_URL, events=["sla.breached"]),
        lambda: services.update_subscription(subscription, actor=actor, name="taken over"),
        lambda: services.rotate_secret(subscription, actor=actor),
        lambda: services.delete_subscription(subscription, actor=actor),
        lambda: services.redeliver(delivery, actor=actor),
        lambda: services.send_test(subscription, actor=actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert list(WebhookSubscription.objects.values_list("name", "secret")) == [("ERP", secret)]
    assert list(WebhookDelivery.objects.values_list("pk", "status")) == [(delivery.pk, DeliveryStatus.FAILED)]


def test_redelivery_needs_a_finished_delivery_and_an_active_subscription(personas):
    subscription = create(personas, events=["sla.breached"])
    consumers.consume(outbox.emit("sla.breached", {"work_order": 1}))
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(DomainError) as excinfo:
        services.redeliver(delivery, actor=personas.admin)
    assert excinfo.value.code == "not_finished"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8)
    services.update_subscription(subscription, actor=personas.admin, active=False)
    with pytest.raises(DomainError) as excinfo:
        services.redeliver(delivery, actor=personas.admin)
    assert excinfo.value.code == "subscription_paused"
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED
    services.update_subscription(subscription, actor=personas.admin, active=True)
    redelivered = services.redeliver(delivery, actor=personas.admin)
    assert (redelivered.status, redelivered.attempts) == (DeliveryStatus.PENDING, 0)
    assert events_of(subscription).filter(action="redelivered", note__contains=delivery.key)


def test_a_paused_subscription_is_not_sent_what_was_waiting(personas):
    subscription = create(personas, events=["sla.breached"])
    consumers.consume(outbox.emit("sla.breached", {"work_order": 1}))
    services.update_subscription(subscription, actor=personas.admin, active=False)
    delivery = WebhookDelivery.objects.get()
    # Paused by the administrator: the delivery fails, and its destination is not held to it.
    assert services.attempt_delivery(delivery.pk) == Attempt("failed", destination_failed=False)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error


def test_the_factory_builds_through_the_service(personas):
    subscription = factories.webhook_subscription()
    assert subscription.events == [
        "work_order.created",
        "work_order.status_changed",
        "sla.breached",
        "evaluation.received",
    ]


def test_the_demo_seed_adds_a_paused_webhook(personas):
    import random

    from django.utils import timezone

    from fieldservice.webhooks import demo

    demo.seed(rng=random.Random(1), now=timezone.now())
    (subscription,) = WebhookSubscription.objects.all()
    assert subscription.active is False and subscription.created_by == personas.admin
