"""The outbox consumer: who is told, in which language, on which channels, and only once."""

import pytest

from fieldservice.accounts.choices import Role
from fieldservice.core.models import OutboxMessage
from fieldservice.dispatch.assignments.services import dispatch_to_engineer, dispatch_to_provider, reject_assignment
from fieldservice.notifications import consumers, services
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, ImEndpoint, Notification, NotificationTemplate, SmsGateway
from tests import factories
from tests.feedback.conftest import build_order
from tests.notifications.conftest import deliveries_of

SLA = {
    "event": "sla.warning",
    "context": {
        "number": "WO0000042",
        "customer": "Customer A",
        "target": "response",
        "due_at": "14:00",
        "rule": "Gold",
        "priority": "High",
    },
    "url": "/orders/42/",
}


def _sla(*users, **extra):
    return {**SLA, "recipients": [u.pk for u in users], **extra}


def test_a_producer_addressed_message_fans_out_to_each_active_recipient(personas, message, consume):
    p = personas
    gone = factories.user(Role.DISPATCHER, username="gone")
    gone.is_active = False
    gone.save()
    p.dispatcher.email = "disp@example.com"
    p.dispatcher.save()
    payload = _sla(p.dispatcher, p.engineer, gone)
    payload["recipients"].append(999999)  # no such user
    msg = message("sla.escalation", payload, key="sla:42:warning")
    consume(msg)
    notes = {n.recipient_id: n for n in Notification.objects.all()}
    assert set(notes) == {p.dispatcher.pk, p.engineer.pk}
    note = notes[p.dispatcher.pk]
    assert note.key == f"sla:42:warning:{p.dispatcher.pk}"
    assert note.event == "sla.warning" and note.url == "/orders/42/"
    assert note.title == "SLA warning: WO0000042 due 14:00"
    assert "Gold" in note.body and "Customer A" in note.body
    # In the app for both, by e-mail only for the one with an address; SMS and IM are off by default.
    assert set(deliveries_of(note)) == {Channel.IN_APP, Channel.EMAIL}
    assert set(deliveries_of(notes[p.engineer.pk])) == {Channel.IN_APP}
    # The in-app delivery ran after the commit.
    note.refresh_from_db()
    assert note.delivered_at is not None
    assert deliveries_of(note)[Channel.IN_APP].status == DeliveryStatus.SENT


def test_consuming_a_message_twice_creates_nothing_twice(personas, message, consume):
    p = personas
    msg = message("sla.escalation", _sla(p.dispatcher, p.agent))
    first = consume(msg, execute=False)
    assert len(first) == 2
    rows = sorted(Notification.objects.values_list("pk", "key"))
    deliveries = sorted(Delivery.objects.values_list("pk", "notification_id", "channel"))
    assert {key for _pk, key in rows} == {f"m{msg.pk}:{p.dispatcher.pk}", f"m{msg.pk}:{p.agent.pk}"}
    assert consume(msg, execute=False) == []
    assert sorted(Notification.objects.values_list("pk", "key")) == rows
    assert sorted(Delivery.objects.values_list("pk", "notification_id", "channel")) == deliveries


def test_the_consumer_enqueues_only_after_the_commit(personas, message, django_capture_on_commit_callbacks):
    msg = message("sla.escalation", _sla(personas.dispatcher))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consumers.consume(msg)
    assert len(callbacks) == 1  # one delivery: in the app
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consumers.consume(msg)
    assert callbacks == []


def test_other_topics_and_malformed_payloads_are_ignored(personas, message, consume):
    consume(message("evaluation.received", {"work_order": 1, "evaluation": 2}))
    consume(message("sla.escalation", {"event": "", "recipients": [personas.dispatcher.pk]}))
    consume(message("sla.escalation", {"event": "sla.warning", "recipients": "everyone"}))
    consume(message("work_order.transitioned", {"work_order": 1, "verb": "accept"}))
    consume(message("work_order.created", {"work_order": 99999}))
    assert not Notification.objects.exists()


def test_a_link_that_leaves_the_site_is_dropped(personas, message, consume):
    consume(message("sla.escalation", _sla(personas.dispatcher, url="https://evil.example/")))
    consume(message("sla.escalation", _sla(personas.agent, url="//evil.example/")))
    assert set(Notification.objects.values_list("url", flat=True)) == {""}


def test_the_actor_is_not_told_of_their_own_move(personas, message, consume):
    consume(message("sla.escalation", _sla(personas.dispatcher, personas.agent, actor=personas.agent.pk)))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [personas.dispatcher.pk]


def test_preferences_decide_the_channels(personas, message, consume):
    p = personas
    for user in (p.dispatcher, p.agent, p.director):
        user.email = f"{user.username}@example.com"
        user.phone = "+8613800000000"
        user.save()
    SmsGateway.objects.create(name="gw", url="http://127.0.0.1:9/sms")
    # dispatcher: no e-mail at all, but SMS for this event
    services.set_preferences(
        p.dispatcher,
        actor=p.dispatcher,
        choices={("", Channel.EMAIL): False, ("sla.warning", Channel.SMS): True},
    )
    # agent: e-mail off in general, on for this event; IM on but no endpoint is active
    services.set_preferences(
        p.agent,
        actor=p.agent,
        choices={("", Channel.EMAIL): False, ("sla.warning", Channel.EMAIL): True, ("", Channel.IM): True},
    )
    # director: in the app off for this event
    services.set_preferences(p.director, actor=p.director, choices={("sla.warning", Channel.IN_APP): False})
    consume(message("sla.escalation", _sla(p.dispatcher, p.agent, p.director)), execute=False)
    channels = {n.recipient_id: set(deliveries_of(n)) for n in Notification.objects.all()}
    assert channels[p.dispatcher.pk] == {Channel.IN_APP, Channel.SMS}
    assert channels[p.agent.pk] == {Channel.IN_APP, Channel.EMAIL}
    assert channels[p.director.pk] == {Channel.EMAIL}


def test_sms_needs_a_phone_and_a_gateway_and_im_an_endpoint(personas, message, consume):
    p = personas
    for user in (p.dispatcher, p.agent):
        services.set_preferences(user, actor=user, choices={("", Channel.SMS): True, ("", Channel.IM): True})
    p.agent.phone = "+8613800000001"
    p.agent.save()
    consume(message("sla.escalation", _sla(p.dispatcher, p.agent)), execute=False)
    assert {c for n in Notification.objects.all() for c in deliveries_of(n)} == {Channel.IN_APP}
    SmsGateway.objects.create(name="gw", url="http://127.0.0.1:9/sms")
    ImEndpoint.objects.create(name="group", url="http://127.0.0.1:9/im")
    second = message("sla.escalation", _sla(p.dispatcher, p.agent))
    consume(second, execute=False)
    latest = {
        n.recipient_id: set(deliveries_of(n)) for n in Notification.objects.filter(key__startswith=f"m{second.pk}:")
    }
    assert latest[p.agent.pk] == {Channel.IN_APP, Channel.SMS, Channel.IM}
    assert latest[p.dispatcher.pk] == {Channel.IN_APP, Channel.IM}  # no phone


def test_an_sla_breach_always_reaches_the_app(personas, message, consume):
    user = personas.dispatcher
    services.set_preferences(user, actor=user, choices={("", Channel.IN_APP): False})
    consume(message("sla.escalation", _sla(user, event="sla.breached")), execute=False)
    consume(message("sla.escalation", _sla(user)), execute=False)
    by_event = {n.event: set(deliveries_of(n)) for n in Notification.objects.all()}
    assert by_event == {"sla.breached": {Channel.IN_APP}, "sla.warning": set()}


def test_each_recipient_reads_it_in_their_own_language(personas, message, consume):
    p = personas
    p.dispatcher.language = "zh-hans"
    p.dispatcher.save()
    consume(message("sla.escalation", _sla(p.dispatcher, p.agent, event="sla.breached")))
    titles = {n.recipient_id: n.title for n in Notification.objects.all()}
    assert titles[p.dispatcher.pk] == "SLA 已超时：WO0000042"
    assert titles[p.agent.pk] == "SLA breached: WO0000042"


def test_labels_in_workflow_texts_follow_the_recipients_language(personas, message, consume):
    p = personas
    p.dispatcher.language = "zh-hans"
    p.dispatcher.save()
    order = factories.work_order(p.customer_a, priority="high")
    consume(message("work_order.created", {"work_order": order.pk, "actor": p.agent.pk}))
    note = Notification.objects.get(recipient=p.dispatcher)
    assert note.title == f"新工单 {order.number}：Customer A"
    assert "优先级：高" in note.body


def test_an_edited_text_is_used_and_a_broken_one_falls_back(personas, message, consume):
    p = personas
    services.save_template(
        actor=p.admin, event="sla.warning", language="en", subject="Hurry: {{ number }}", body="{{ customer }}"
    )
    consume(message("sla.escalation", _sla(p.dispatcher)))
    assert Notification.objects.get().title == "Hurry: WO0000042"
    # A row changed behind the editor's back (e.g. in the database) that fails at render time
    NotificationTemplate.objects.filter(event="sla.warning", language="en").update(subject="{% include 'x.html' %}")
    consume(message("sla.escalation", _sla(p.agent)))
    assert Notification.objects.get(recipient=p.agent).title == "SLA warning: WO0000042 due 14:00"


def test_an_event_without_a_text_gets_a_plain_one(personas, message, consume):
    consume(message("custom", {"event": "stock.low", "recipients": [personas.agent.pk], "context": {"part": "P-1"}}))
    note = Notification.objects.get()
    assert note.title == "stock.low" and "part: P-1" in note.body


# --- workflow topics --------------------------------------------------------------------------


def _messages(topic):
    return list(OutboxMessage.objects.filter(topic=topic).order_by("pk"))


def test_a_new_work_order_goes_to_our_dispatchers_but_not_its_creator(personas, consume):
    p = personas
    second = factories.user(Role.DISPATCHER, username="dispatcher2")
    old = factories.user(Role.DISPATCHER, username="old_dispatcher")
    old.is_active = False
    old.save()
    order = build_order(desk=p.dispatcher, customer=p.customer_a, until="new")
    (msg,) = _messages("work_order.created")
    consume(msg)
    notes = list(Notification.objects.all())
    assert [n.recipient_id for n in notes] == [second.pk]
    assert notes[0].event == "work_order.created"
    assert notes[0].url == f"/orders/{order.pk}/"
    assert order.number in notes[0].title


def test_a_dispatch_tells_the_offered_engineer(personas, consume):
    p = personas
    order = build_order(desk=p.dispatcher, customer=p.customer_a, until="new")
    dispatch_to_engineer(order, actor=p.dispatcher, engineer=p.engineer, note="Bring the oil filter")
    (msg,) = _messages("work_order.transitioned")
    consume(msg)
    note = Notification.objects.get()
    assert note.recipient == p.engineer and note.event == "work_order.assigned"
    assert note.url == f"/m/orders/{order.pk}/"
    assert "Bring the oil filter" in note.body


def test_a_provider_dispatch_tells_the_providers_admins(personas, consume):
    p = personas
    order = build_order(desk=p.dispatcher, customer=p.customer_a, until="new")
    dispatch_to_provider(order, actor=p.dispatcher, provider=p.provider)
    (msg,) = _messages("work_order.transitioned")
    consume(msg)
    assert list(Notification.objects.values_list("recipient", "event", "url")) == [
        (p.provider_admin.pk, "work_order.assigned", "/dispatch/provider/")
    ]


def test_a_rejection_goes_to_the_dispatchers(personas, consume):
    p = personas
    order = build_order(desk=p.agent, customer=p.customer_a, until="new")
    assignment = dispatch_to_engineer(order, actor=p.dispatcher, engineer=p.engineer)
    reject_assignment(assignment, actor=p.engineer, reason="On leave tomorrow")
    reject = [m for m in _messages("work_order.transitioned") if m.payload["verb"] == "reject"][0]
    consume(reject)
    note = Notification.objects.get()
    assert note.recipient == p.dispatcher and note.event == "work_order.rejected"
    assert "On leave tomorrow" in note.body and str(p.engineer) in note.title
    assert note.url == f"/dispatch/orders/{order.pk}/"


def test_a_completed_order_goes_to_its_creator(personas, consume):
    p = personas
    engineer = factories.engineer()
    order = build_order(desk=p.dispatcher, customer=p.customer_a, engineer=engineer, until="completed")
    complete = [m for m in _messages("work_order.transitioned") if m.payload["verb"] == "complete"][0]
    consume(complete)
    note = Notification.objects.get()
    assert note.recipient == p.dispatcher and note.event == "work_order.completed"
    assert note.url == f"/orders/{order.pk}/" and order.number in note.title
    assert str(engineer) in note.body


@pytest.mark.parametrize("verb", ["accept", "start_travel", "check_in", "close", "hold", "cancel"])
def test_other_moves_tell_nobody(personas, message, consume, verb):
    order = factories.work_order(personas.customer_a)
    consume(message("work_order.transitioned", {"work_order": order.pk, "verb": verb, "actor": None}))
    assert not Notification.objects.exists()
