"""Customer care's SMS and e-mails leave through the notification channels (a contact-addressed
outbox message consumed into deliveries and sent to the contact's phone or address), and its
letters print as a PDF with one page per customer, Chinese included."""

from io import BytesIO

import pytest
from django.core import mail
from pypdf import PdfReader

from fieldservice.core.models import OutboxMessage
from fieldservice.maintenance.letters import render_care_letters
from fieldservice.maintenance.models import CareTouch
from fieldservice.maintenance.services import care as services
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, Notification, SmsGateway
from fieldservice.notifications.tasks import run_delivery
from tests import factories
from tests.maintenance import care_helpers as h

pytestmark = pytest.mark.django_db


def test_sms_are_consumed_into_deliveries_to_the_contacts_phones_once(personas, django_capture_on_commit_callbacks):
    customers = h.key_customers(personas.admin, 2)
    h.running(personas.agent, method="sms")
    assert OutboxMessage.objects.filter(topic=services.EVENT).count() == 1
    made = h.drain(django_capture_on_commit_callbacks)
    assert len(made) == 2
    deliveries = Delivery.objects.filter(pk__in=made).select_related("notification")
    assert {d.channel for d in deliveries} == {Channel.SMS}
    phones = {d.notification.to_phone for d in deliveries}
    assert phones == {c.contacts.get().phone for c in customers}
    assert all(d.notification.recipient_id is None for d in deliveries)
    bodies = {d.notification.body for d in deliveries}
    assert bodies == {f"尊敬的{c.contacts.get().name}：{personas.own.name}祝{c.name}新春快乐！" for c in customers}
    # Consumed again (a retried drain): nothing twice.
    assert h.drain(django_capture_on_commit_callbacks) == []
    assert Notification.objects.count() == 2


def test_an_sms_is_sent_through_the_active_gateway(personas, django_capture_on_commit_callbacks, monkeypatch):
    customer = h.key_customers(personas.admin, 1)[0]
    SmsGateway.objects.create(name="Gateway", url="https://sms.example.com/send")
    sent = []
    monkeypatch.setattr(
        "fieldservice.notifications.channels.post_to_sms",
        lambda gateway, phone, text, **kw: sent.append((phone, text)),
    )
    h.running(personas.agent, method="sms")
    [delivery_id] = h.drain(django_capture_on_commit_callbacks)
    assert run_delivery(delivery_id).result == "sent"
    assert sent and sent[0][0] == customer.contacts.get().phone
    assert "新春快乐" in sent[0][1]
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.SENT


def test_an_email_goes_to_the_contacts_address_without_our_settings_footer(
    personas, django_capture_on_commit_callbacks
):
    customer = h.key_customers(personas.admin, 1)[0]
    h.running(personas.agent, method="email")
    [delivery_id] = h.drain(django_capture_on_commit_callbacks)
    assert Delivery.objects.get(pk=delivery_id).channel == Channel.EMAIL
    assert run_delivery(delivery_id).result == "sent"
    [message] = mail.outbox
    assert message.to == [customer.contacts.get().email]
    assert message.subject == f"{personas.own.name} 给 {customer.name} 拜年"
    assert "新春快乐" in message.body
    assert "notification settings" not in message.body


def test_the_letters_print_one_page_per_customer_in_chinese(personas):
    customers = h.key_customers(personas.admin, 2)
    factories.site(customers[0], actor=personas.admin, name="一号厂区", address="宁波市北仑区大港路 1 号")
    plan = h.running(personas.agent, method="letter", subject="致{{ customer }}的一封信")
    touches = CareTouch.objects.filter(plan=plan).select_related("customer").order_by("customer__name")
    assert {t.status for t in touches} == {"printed"}
    pdf = PdfReader(BytesIO(render_care_letters(plan, touches, language="zh-hans")))
    assert len(pdf.pages) == 2
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for customer in customers:
        assert f"致{customer.name}的一封信" in text
    assert "新春快乐" in text
    assert "大港路" in text
    assert not OutboxMessage.objects.filter(topic=services.EVENT).exists()
