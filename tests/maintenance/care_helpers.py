"""Builders for the customer-care tests: plans through the services, and the outbox drained the way
the worker drains it (the consumers run on each stored message)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fieldservice.core.models import OutboxMessage
from fieldservice.customers.choices import CustomerTier
from fieldservice.maintenance.services import care as services
from fieldservice.notifications import consumers
from tests import factories


def key_customers(actor, count=2, **fields):
    """`count` key accounts, each with a primary contact (phone and e-mail)."""
    made = []
    for index in range(count):
        customer = factories.customer(actor=actor, tier=CustomerTier.KEY, **fields)
        factories.contact(
            customer, actor=actor, name=f"王经理 {index}", email=f"contact{customer.pk}@example.com", is_primary=True
        )
        made.append(customer)
    return made


def plan(actor, **fields):
    fields.setdefault("name", "春节问候")
    fields.setdefault("occasion", "festival")
    fields.setdefault("method", "sms")
    fields.setdefault("target_tiers", [CustomerTier.KEY])
    fields.setdefault("subject", "{{ company }} 给 {{ customer }} 拜年")
    fields.setdefault("body", "尊敬的{{ contact }}：{{ company }}祝{{ customer }}新春快乐！")
    fields.setdefault("starts_on", timezone.localdate())
    fields.setdefault("budget", Decimal("500.00"))
    return services.create_care_plan(actor=actor, **fields)


def running(actor, **fields):
    made = plan(actor, **fields)
    services.activate_care_plan(made, actor=actor)
    services.run_care_plan(made, actor=actor)
    made.refresh_from_db()
    return made


def drain(capture) -> list[int]:
    """Consume every care outbox message (as the drain does); returns the deliveries made."""
    made = []
    with capture(execute=False):
        for message in OutboxMessage.objects.filter(topic=services.EVENT).order_by("pk"):
            made += consumers.notify_contacts(message, message.payload)
    return made


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
