"""Services: editing texts, preferences, channel settings, reading, retrying."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event as LogEvent
from fieldservice.notifications import services
from fieldservice.notifications.choices import Channel, DeliveryStatus, Event
from fieldservice.notifications.defaults import DEFAULT_TEMPLATES
from fieldservice.notifications.models import (
    Delivery,
    ImEndpoint,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    SmsGateway,
)


def _field_error(excinfo) -> tuple[str, str]:
    ((field, errors),) = excinfo.value.error_dict.items()
    return field, errors[0].code


# --- templates ---------------------------------------------------------------------------------


def test_the_shipped_texts_are_rows_in_both_languages(db):
    rows = {(t.event, t.language) for t in NotificationTemplate.objects.all()}
    assert rows == {(event, language) for event in DEFAULT_TEMPLATES for language in ("en", "zh-hans")}
    assert set(DEFAULT_TEMPLATES) == set(Event.values)


def test_a_missing_row_falls_back_to_the_shipped_text(db):
    NotificationTemplate.objects.filter(event="sla.warning", language="zh-hans").delete()
    title, _body = services.render_notification("sla.warning", "zh-hans", {"number": "WO1", "due_at": "9:00"})
    assert title == "SLA 预警：WO1 将于 9:00 到期"


def test_an_administrator_edits_a_text(personas):
    template = services.save_template(
        actor=personas.admin, event="contract.expiring", language="en", subject="  Renew {{ contract }} ", body="x"
    )
    assert (template.subject, template.body) == ("Renew {{ contract }}", "x")
    assert NotificationTemplate.objects.filter(event="contract.expiring").count() == 2
    assert LogEvent.objects.filter(object_pk=str(template.pk), action="updated").exists()
    title, _ = services.render_notification("contract.expiring", "en", {"contract": "SC-1"})
    assert title == "Renew SC-1"


@pytest.mark.parametrize(
    ("subject", "body", "field", "code"),
    [
        ("{% if number %}open", "ok", "subject", "template_syntax"),
        ("ok", "{{ number|nosuchfilter }}", "body", "template_syntax"),
        ("ok", "{% load static %}", "body", "template_syntax"),
        ("ok", "{% include 'base.html' %}", "body", "template_render"),
        ("", "ok", "subject", "required"),
        ("x" * 201, "ok", "subject", "max_length"),
    ],
)
def test_a_bad_text_is_refused_on_its_field_and_nothing_changes(personas, subject, body, field, code):
    before = list(NotificationTemplate.objects.values_list("event", "language", "subject", "body"))
    with pytest.raises(ValidationError) as excinfo:
        services.save_template(actor=personas.admin, event="sla.warning", language="en", subject=subject, body=body)
    assert _field_error(excinfo) == (field, code)
    assert list(NotificationTemplate.objects.values_list("event", "language", "subject", "body")) == before


def test_only_known_events_and_languages_are_edited(personas):
    with pytest.raises(ValidationError) as excinfo:
        services.save_template(actor=personas.admin, event="nope", language="en", subject="x", body="")
    assert _field_error(excinfo) == ("event", "invalid_choice")
    with pytest.raises(ValidationError) as excinfo:
        services.save_template(actor=personas.admin, event="sla.warning", language="fr", subject="x", body="")
    assert _field_error(excinfo) == ("language", "invalid_choice")


@pytest.mark.parametrize("who", ["dispatcher", "director", "provider_admin", "customer_user_a"])
def test_only_administrators_edit_texts(personas, who):
    with pytest.raises(PermissionDenied):
        services.save_template(actor=getattr(personas, who), event="sla.warning", language="en", subject="x", body="y")
    assert NotificationTemplate.objects.get(event="sla.warning", language="en").subject != "x"


def test_preview_and_reset(personas):
    title, body = services.preview_template(
        actor=personas.admin, event="warranty.expiring", language="en", subject="{{ serial }}", body="{{ days_left }}"
    )
    assert (title, body) == ("SN-0001", "30")
    services.save_template(actor=personas.admin, event="warranty.expiring", language="en", subject="x", body="")
    services.reset_template(actor=personas.admin, event="warranty.expiring", language="en")
    row = NotificationTemplate.objects.get(event="warranty.expiring", language="en")
    assert row.subject == DEFAULT_TEMPLATES["warranty.expiring"]["en"]["subject"]


# --- preferences ---------------------------------------------------------------------------------


def test_preferences_resolve_event_then_all_then_default(personas):
    user = personas.agent
    services.set_preferences(
        user,
        actor=user,
        choices={("", Channel.EMAIL): False, ("sla.warning", Channel.EMAIL): True, ("", Channel.SMS): True},
    )
    rows = services.preferences_of(user)
    assert services.is_enabled(rows, "sla.warning", Channel.EMAIL) is True
    assert services.is_enabled(rows, "sla.breached", Channel.EMAIL) is False
    assert services.is_enabled(rows, "sla.breached", Channel.SMS) is True
    assert services.is_enabled(rows, "sla.breached", Channel.IM) is False
    assert services.is_enabled(rows, "sla.breached", Channel.IN_APP) is True
    # None: back to "as for all events"
    services.set_preferences(user, actor=user, choices={("sla.warning", Channel.EMAIL): None})
    assert not NotificationPreference.objects.filter(user=user, event="sla.warning").exists()


def test_in_app_cannot_be_turned_off_for_a_breach_and_nothing_is_saved(personas):
    user = personas.agent
    with pytest.raises(ValidationError) as excinfo:
        services.set_preferences(
            user, actor=user, choices={("", Channel.EMAIL): False, ("sla.breached", Channel.IN_APP): False}
        )
    assert _field_error(excinfo) == ("sla.breached__in_app", "always_on")
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_preferences_are_the_users_own(personas):
    with pytest.raises(PermissionDenied):
        services.set_preferences(personas.agent, actor=personas.admin, choices={("", Channel.EMAIL): False})
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(
    ("key", "value"), [(("", "fax"), True), (("nope", Channel.EMAIL), True), (("", Channel.EMAIL), None)]
)
def test_unknown_preferences_are_refused(personas, key, value):
    with pytest.raises(ValidationError):
        services.set_preferences(personas.agent, actor=personas.agent, choices={key: value})
    assert not NotificationPreference.objects.exists()


# --- channel settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/x", "invalid"),
        ("not a url", "invalid"),
        ("http://localhost:8000/hook", "self_target"),
        ("http://127.0.0.1:8000/hook", "self_target"),
    ],
)
def test_an_endpoint_address_must_be_http_and_not_this_server(personas, url, code):
    with pytest.raises(ValidationError) as excinfo:
        services.create_im_endpoint(actor=personas.admin, name="ops", url=url)
    assert _field_error(excinfo) == ("url", code)
    with pytest.raises(ValidationError):
        services.create_sms_gateway(actor=personas.admin, name="gw", url=url)
    assert not ImEndpoint.objects.exists() and not SmsGateway.objects.exists()


def test_an_unknown_kind_is_refused(personas, settings):
    settings.FSM_OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(ValidationError) as excinfo:
        services.create_im_endpoint(actor=personas.admin, name="ops", url="http://127.0.0.1:9/", kind="telex")
    assert _field_error(excinfo) == ("kind", "invalid_choice")


def test_the_secret_is_kept_unless_a_new_one_is_given_and_never_logged(personas, settings):
    settings.FSM_OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint = services.create_im_endpoint(
        actor=personas.admin, name="ops", url="http://127.0.0.1:9/", kind="dingtalk", secret="SEC-first"
    )
    services.update_im_endpoint(endpoint, actor=personas.admin, secret=None, name="ops 2")
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.secret) == ("ops 2", "SEC-first")
    services.update_im_endpoint(endpoint, actor=personas.admin, secret="SEC-second")
    endpoint.refresh_from_db()
    assert endpoint.secret == "SEC-second"
    services.update_im_endpoint(endpoint, actor=personas.admin, secret="")
    endpoint.refresh_from_db()
    assert endpoint.secret == ""
    logged = repr(list(LogEvent.objects.values_list("changes", "note")))
    assert "SEC-" not in logged and "secret changed" in logged


@pytest.mark.parametrize("who", ["dispatcher", "director", "provider_admin"])
def test_only_administrators_configure_channels(personas, settings, who):
    settings.FSM_OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(PermissionDenied):
        services.create_im_endpoint(actor=getattr(personas, who), name="x", url="http://127.0.0.1:9/")
    with pytest.raises(PermissionDenied):
        services.create_sms_gateway(actor=getattr(personas, who), name="x", url="http://127.0.0.1:9/")
    assert not ImEndpoint.objects.exists() and not SmsGateway.objects.exists()


def test_send_test_reports_the_receivers_answer(personas, receiver):
    endpoint = services.create_im_endpoint(actor=personas.admin, name="ops", url=receiver.url, secret="k")
    assert "200" in services.send_test_im(endpoint, actor=personas.admin)
    assert receiver.signature_ok(receiver.requests[0], "k")
    receiver.statuses = [500]
    with pytest.raises(DomainError) as excinfo:
        services.send_test_im(endpoint, actor=personas.admin)
    assert excinfo.value.code == "send_failed" and "500" in excinfo.value.message
    gateway = services.create_sms_gateway(actor=personas.admin, name="gw", url=receiver.url)
    with pytest.raises(ValidationError):
        services.send_test_sms(gateway, actor=personas.admin, phone=" ")
    services.send_test_sms(gateway, actor=personas.admin, phone="+8613800000000")
    assert receiver.requests[-1]["json"]["phone"] == "+8613800000000"


# --- reading and retrying ------------------------------------------------------------------------


def test_marking_read_is_for_the_recipient_only(personas, notify_user):
    note = notify_user(personas.agent)
    with pytest.raises(PermissionDenied):
        services.mark_read(note, actor=personas.dispatcher)
    assert Notification.objects.get(pk=note.pk).read_at is None
    services.mark_read(note, actor=personas.agent)
    first = Notification.objects.get(pk=note.pk).read_at
    assert first is not None
    services.mark_read(note, actor=personas.agent)
    assert Notification.objects.get(pk=note.pk).read_at == first


def test_mark_all_read_touches_only_the_actors_own(personas, notify_user):
    mine = [notify_user(personas.agent), notify_user(personas.agent)]
    theirs = notify_user(personas.dispatcher)
    assert services.mark_all_read(actor=personas.agent) == 2
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_retry_a_failed_delivery(personas, notify_user, on_commit):
    note = notify_user(personas.agent)
    delivery = Delivery.objects.get(notification=note, channel=Channel.IN_APP)
    with pytest.raises(DomainError):
        services.retry_delivery(delivery, actor=personas.admin)  # it was sent
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=6, last_error="boom")
    with pytest.raises(PermissionDenied):
        services.retry_delivery(delivery, actor=personas.dispatcher)
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED
    on_commit(services.retry_delivery, delivery, actor=personas.admin)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
