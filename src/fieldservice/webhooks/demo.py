"""Demo data: one paused webhook, so the pages have something to show and nothing is sent.

The address is on a documentation network (192.0.2.0/24), which the outgoing-address guard refuses
as not public: the seed lists it as an exception for this one save only, so were the webhook
activated, its deliveries would be refused before any connection."""

from django.conf import settings
from django.test import override_settings

from fieldservice.accounts.choices import Role
from fieldservice.accounts.models import User
from fieldservice.webhooks.choices import WebhookEvent
from fieldservice.webhooks.services import create_subscription


def seed(*, rng, now) -> None:
    admin = User.objects.filter(roles__role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    if admin is None:
        return
    allowed = [*settings.FSM_OUTGOING_ALLOWED_HOSTS, "192.0.2.10"]
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=allowed):
        create_subscription(
            actor=admin,
            name="ERP 对接（示例）",
            url="http://192.0.2.10/fsm/hooks",
            events=[WebhookEvent.WORK_ORDER_CREATED, WebhookEvent.WORK_ORDER_STATUS_CHANGED, WebhookEvent.SLA_BREACHED],
            active=False,
        )
