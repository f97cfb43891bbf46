"""Outbox consumer: turns messages into notifications and deliveries.

Called by `core.outbox.drain` for every message, inside the message's transaction. It only
writes rows and asks for the pumps of the new deliveries' channels after the commit; the sending
happens there (core.destinations), so a slow or failing channel never touches the business
transaction.

Three kinds of message:
- producer-addressed: the payload names the people ({"event", "recipients", "context", "url"});
  used by the SLA and expiry checks;
- contact-addressed: the payload names customers' contacts, who are no users, each with the
  channel, the phone or address and the text already written ({"event", "contacts": [{"ref",
  "name", "channel": "sms" | "email", "phone", "email", "subject", "body"}]}); customer care's SMS
  and e-mails. One notification without a recipient and one delivery on that channel each;
- workflow topics, where the recipients follow rules kept here (work_order.created,
  work_order.transitioned with verb dispatch, reject or complete; stock.below_minimum to the
  warehouse's keepers; iot.order_opened to the users of the order's customer).

A message consumed twice creates nothing twice: each notification has the key
"<message key or m<message pk>>:<user id>" and each delivery is unique per channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import ROLE_CAPABILITIES, Capability
from fieldservice.core import destinations
from fieldservice.core.outbox import batch_memo
from fieldservice.core.tasks import prioritised
from fieldservice.dispatch.choices import AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.inventory.models import Warehouse
from fieldservice.notifications import services
from fieldservice.notifications.choices import Channel, Event
from fieldservice.notifications.models import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Delivery,
    ImEndpoint,
    Notification,
    SmsGateway,
)
from fieldservice.workorders.models import WorkOrder

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 1000
MAX_CONTEXT_VALUE = 500


@dataclass
class Plan:
    """What one message becomes: an event for some people, with values for the text."""

    event: str
    recipient_ids: list[int]
    # Called once per recipient, inside translation.override of their language, so labels
    # (priority, service type) come out in it.
    context: Callable[[], dict]
    url: str | Callable[[User], str] = ""
    actor_id: int | None = None
    exclude: set[int] = field(default_factory=set)


def consume(message) -> None:
    if message.topic == "public.phone_code":
        _send_phone_code(message)
        return
    if isinstance(message.payload, dict) and "contacts" in message.payload:
        notify_contacts(message, message.payload)
        return
    plan = plan_for(message)
    if plan is None or not plan.recipient_ids:
        return
    notify(message, plan)


def plan_for(message) -> Plan | None:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if "recipients" in payload:
        return _producer_plan(payload)
    if message.topic in (Event.DESTINATION_OPENED, Event.DESTINATION_RECOVERED):
        return _destination_plan(message.topic, payload)
    if message.topic == Event.STOCK_BELOW_MINIMUM:
        return _stock_plan(payload)
    if message.topic == "work_order.created":
        return _order_plan(payload, Event.WORK_ORDER_CREATED, _dispatcher_ids)
    if message.topic == Event.IOT_ORDER_OPENED:
        return _order_plan(payload, Event.IOT_ORDER_OPENED, _customer_user_ids)
    if message.topic == "work_order.transitioned":
        verb = payload.get("verb")
        if verb == "dispatch":
            return _assigned_plan(message, payload)
        if verb == "reject":
            return _order_plan(payload, Event.WORK_ORDER_REJECTED, _dispatcher_ids, url_name="dispatch:order")
        if verb == "complete":
            return _order_plan(payload, Event.WORK_ORDER_COMPLETED, _creator_ids)
    return None


# --- producer-addressed --------------------------------------------------------------------


def _plain_value(value):
    if isinstance(value, bool) or value is None:
        return str(value) if value is not None else ""
    if isinstance(value, int | float):
        return value
    return str(value)[:MAX_CONTEXT_VALUE]


def _site_path(url) -> str:
    # Only a path on this site: a link in a notification must not lead elsewhere.
    url = url if isinstance(url, str) else ""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url and len(url) <= 300 else ""


def _producer_plan(payload: dict) -> Plan | None:
    event = payload.get("event")
    recipients = payload.get("recipients")
    if not isinstance(event, str) or not event or len(event) > 60 or not isinstance(recipients, list):
        logger.warning("Notification message without a usable event or recipients: %r", payload)
        return None
    ids = [pk for pk in recipients if isinstance(pk, int) and not isinstance(pk, bool)][:MAX_RECIPIENTS]
    raw = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    values = {str(name): _plain_value(value) for name, value in raw.items()}
    actor = payload.get("actor")
    return Plan(
        event=event,
        recipient_ids=ids,
        context=lambda: dict(values),
        url=_site_path(payload.get("url")),
        actor_id=actor if isinstance(actor, int) else None,
    )


def _destination_plan(event: str, payload: dict) -> Plan | None:
    """A destination's circuit opened or closed (core.destinations): the administrators, who
    can fix a receiver's address or turn it off, hear of it."""
    key = payload.get("destination")
    if not isinstance(key, str) or not key:
        return None
    error = str(payload.get("error") or "")[:MAX_CONTEXT_VALUE]
    admins = (
        User.objects.filter(is_active=True, organisation__kind=OrganisationKind.OWN)
        .filter(Q(is_superuser=True) | Q(roles__role=Role.ADMINISTRATOR))
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Plan(
        event=event,
        recipient_ids=list(admins[:MAX_RECIPIENTS]),
        context=lambda: {"destination": destinations.label(key), "error": error},
        url=reverse("webhooks:detail", args=[int(key.split(":", 1)[1])])
        if key.startswith("webhook:") and key.split(":", 1)[1].isdigit()
        else reverse("notifications:manage"),
    )


def _quantity_text(value) -> str:
    """3.000 as 3, 2.500 as 2.5 (never 1E+1); anything else as it came."""
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except (InvalidOperation, ValueError):
        return str(value)


def _stock_plan(payload: dict) -> Plan | None:
    """A part fell below its minimum in a warehouse (inventory's ledger): its keepers hear of it, or,
    for a warehouse without keepers, everyone of its organisation who runs stock."""
    warehouse = payload.get("warehouse")
    if not isinstance(warehouse, int) or isinstance(warehouse, bool):
        return None
    place = Warehouse.objects.filter(pk=warehouse).first()
    if place is None:
        return None
    keepers = payload.get("keepers")
    ids = (
        [pk for pk in keepers if isinstance(pk, int) and not isinstance(pk, bool)] if isinstance(keepers, list) else []
    )
    if not ids:
        roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.MANAGE_STOCK in capabilities]
        ids = list(
            User.objects.filter(is_active=True, organisation_id=place.organisation_id, roles__role__in=roles)
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)[:MAX_RECIPIENTS]
        )
    values = {name: _plain_value(payload.get(name)) for name in ("part_number", "part_name", "on_hand", "minimum")}
    values["warehouse"] = place.name
    for name in ("on_hand", "minimum"):
        values[name] = _quantity_text(values[name])
    return Plan(
        event=Event.STOCK_BELOW_MINIMUM,
        recipient_ids=ids[:MAX_RECIPIENTS],
        context=lambda: dict(values),
        url=reverse("inventory:plan_detail", args=[place.pk]),
    )


# --- workflow topics -----------------------------------------------------------------------


def _dispatcher_ids(order) -> list[int]:
    return batch_memo(
        "dispatcher_ids",
        lambda: list(
            User.objects.filter(is_active=True, roles__role=Role.DISPATCHER, organisation__kind=OrganisationKind.OWN)
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )


def _customer_user_ids(order) -> list[int]:
    """The users of the order's customer company (a connected machine's order told to them)."""
    organisation_id = order.customer.organisation_id
    if organisation_id is None:
        return []
    return list(
        User.objects.filter(is_active=True, organisation_id=organisation_id).order_by("pk").values_list("pk", flat=True)
    )


def _creator_ids(order) -> list[int]:
    return [order.created_by_id] if order.created_by_id else []


def _load_order(payload: dict):
    pk = payload.get("work_order")
    if not isinstance(pk, int):
        return None
    return WorkOrder.objects.select_related("customer", "site__customer").filter(pk=pk).first()


def _order_context(order, payload: dict) -> Callable[[], dict]:
    actor_id = payload.get("actor")
    actor = User.objects.filter(pk=actor_id).first() if isinstance(actor_id, int) else None

    def build() -> dict:
        return {
            "number": order.number,
            "customer": str(order.customer),
            "site": str(order.site) if order.site_id else "",
            "priority": str(order.get_priority_display()),
            "service_type": str(order.get_service_type_display()),
            "description": (order.description or "")[:MAX_CONTEXT_VALUE],
            "actor": str(actor) if actor else "",
            "note": str(payload.get("note") or "")[:MAX_CONTEXT_VALUE],
        }

    return build


def _order_plan(payload: dict, event: str, recipients, url_name: str = "workorders:order_detail") -> Plan | None:
    order = _load_order(payload)
    if order is None:
        return None
    actor = payload.get("actor")
    return Plan(
        event=event,
        recipient_ids=recipients(order),
        context=_order_context(order, payload),
        url=reverse(url_name, args=[order.pk]),
        actor_id=actor if isinstance(actor, int) else None,
    )


def _assigned_plan(message, payload: dict) -> Plan | None:
    """The lead that this dispatch offered: an engineer, or a provider whose admins pick one."""
    order = _load_order(payload)
    if order is None:
        return None
    assignment = (
        Assignment.objects.filter(work_order=order, role=AssignmentRole.LEAD, assigned_at__lte=message.created_at)
        .order_by("-assigned_at", "-pk")
        .first()
    )
    if assignment is None:
        return None
    if assignment.engineer_id:
        ids = [assignment.engineer_id]

        def url(user: User) -> str:
            # Engineers work from the phone pages; everyone else from the desk.
            if user.has_role(Role.ENGINEER):
                return reverse("field:order", args=[order.pk])
            return reverse("workorders:order_detail", args=[order.pk])

    else:
        ids = list(
            User.objects.filter(is_active=True, organisation_id=assignment.provider_id, roles__role=Role.PROVIDER_ADMIN)
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        url = reverse("dispatch:provider_queue")
    actor = payload.get("actor")
    return Plan(
        event=Event.WORK_ORDER_ASSIGNED,
        recipient_ids=ids,
        context=_order_context(order, payload),
        url=url,
        actor_id=actor if isinstance(actor, int) else None,
    )


# --- fan-out -------------------------------------------------------------------------------


def _possible_channels(user: User, *, sms_ready: bool, im_ready: bool) -> set[str]:
    possible = {Channel.IN_APP}
    if user.email:
        possible.add(Channel.EMAIL)
    if user.phone and sms_ready:
        possible.add(Channel.SMS)
    if im_ready:
        possible.add(Channel.IM)
    return possible


def notify(message, plan: Plan) -> list[int]:
    """Write the notifications and deliveries of `plan`; enqueue the new deliveries after the
    commit. Returns the ids of the deliveries created now."""
    message_key = message.key or f"m{message.pk}"
    ids = tuple(sorted(set(plan.recipient_ids)))
    recipients = batch_memo(
        ("notification_recipients", ids), lambda: list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))
    )
    users = [user for user in recipients if user.pk != plan.actor_id]  # never tell people about their own move
    if not users:
        return []
    keys = {user.pk: f"{message_key}:{user.pk}"[:240] for user in users}
    existing = set(Notification.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    users = [user for user in users if keys[user.pk] not in existing]
    if not users:
        return []
    now = timezone.now()
    rows = []
    for user in users:
        language = services.language_of(user)
        with translation.override(language):
            values = plan.context()
            url = plan.url(user) if callable(plan.url) else plan.url
        title, body = services.render_notification(plan.event, language, values)
        rows.append(
            Notification(
                recipient=user, event=plan.event, title=title, body=body, url=url, key=keys[user.pk], created_at=now
            )
        )
    # The message is this drain's alone (locked), and the keys above were not taken: a conflict
    # here is a bug, and fails the message's savepoint rather than half-writing it.
    Notification.objects.bulk_create(rows)
    created = {n.key: n for n in rows}

    preferences = services.preferences_for_users([user.pk for user in users], plan.event)
    sms_ready = batch_memo("sms_ready", lambda: SmsGateway.objects.filter(is_active=True).exists())
    im_ready = batch_memo("im_ready", lambda: ImEndpoint.objects.filter(is_active=True).exists())
    deliveries = []
    for user in users:
        notification = created.get(keys[user.pk])
        if notification is None:  # pragma: no cover - bulk_create above made it or found it
            continue
        for channel in Channel.values:
            if channel not in _possible_channels(user, sms_ready=sms_ready, im_ready=im_ready):
                continue
            if not services.is_enabled(preferences[user.pk], plan.event, channel):
                continue
            deliveries.append(Delivery(notification=notification, channel=channel, next_attempt_at=now))
    # New notifications have no deliveries yet.
    Delivery.objects.bulk_create(deliveries)
    services.request_send_after_commit({delivery.channel for delivery in deliveries})
    return [delivery.pk for delivery in deliveries]


# --- contact-addressed ----------------------------------------------------------------------

CONTACT_CHANNELS = {Channel.SMS: "phone", Channel.EMAIL: "email"}


def _contact_text(value, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def notify_contacts(message, payload: dict) -> list[int]:
    """Write one notification (no recipient: the contact's phone or address) and one delivery per
    contact of the payload; a contact without the address its channel needs is skipped. Returns the
    ids of the deliveries created now; consumed twice, nothing twice (the key names the contact)."""
    event = payload.get("event")
    contacts = payload.get("contacts")
    if not isinstance(event, str) or not event or len(event) > 60 or not isinstance(contacts, list):
        logger.warning("Contact message without a usable event or contacts: %r", payload)
        return []
    message_key = message.key or f"m{message.pk}"
    now = timezone.now()
    rows: dict[str, tuple[Notification, str]] = {}
    for item in contacts[:MAX_RECIPIENTS]:
        if not isinstance(item, dict):
            continue
        channel = item.get("channel")
        ref = item.get("ref")
        if channel not in CONTACT_CHANNELS or not isinstance(ref, str) or not ref:
            continue
        phone = _contact_text(item.get("phone"), 32).strip()
        email = _contact_text(item.get("email"), 254).strip()
        if not (phone if channel == Channel.SMS else email):
            continue
        key = f"{message_key}:{ref}"[:240]
        title = " ".join(_contact_text(item.get("subject"), SUBJECT_MAX_LENGTH).split()) or event
        rows[key] = (
            Notification(
                recipient=None,
                to_name=_contact_text(item.get("name"), 100),
                to_phone=phone if channel == Channel.SMS else "",
                to_email=email if channel == Channel.EMAIL else "",
                event=event,
                title=title,
                body=_contact_text(item.get("body"), BODY_MAX_LENGTH),
                key=key,
                created_at=now,
            ),
            channel,
        )
    existing = set(Notification.objects.filter(key__in=list(rows)).values_list("key", flat=True))
    fresh = [(notification, channel) for key, (notification, channel) in rows.items() if key not in existing]
    if not fresh:
        return []
    Notification.objects.bulk_create([notification for notification, _channel in fresh])
    created = {n.key: n.pk for n in Notification.objects.filter(key__in=[n.key for n, _c in fresh])}
    deliveries = [
        Delivery(notification_id=created[notification.key], channel=channel, next_attempt_at=now)
        for notification, channel in fresh
    ]
    Delivery.objects.bulk_create(deliveries)
    services.request_send_after_commit({delivery.channel for delivery in deliveries})
    return list(
        Delivery.objects.filter(notification_id__in=created.values()).order_by("pk").values_list("pk", flat=True)
    )


def _send_phone_code(message) -> None:
    """The code a QR reporter asked for (workorders.services.intake.issue_phone_code): one SMS,
    sent by a task after this commit. Not a Notification: the reporter is not a user."""
    from django.db import transaction

    from fieldservice.notifications.tasks import PHONE_CODE_PRIORITY, send_phone_code

    payload = message.payload if isinstance(message.payload, dict) else {}
    phone, code = payload.get("phone"), payload.get("code")
    if phone and code:
        task = prioritised(send_phone_code, PHONE_CODE_PRIORITY)
        transaction.on_commit(lambda: task.enqueue(message.pk, phone, code))
