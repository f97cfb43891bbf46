"""Customer care: writing a plan, its moves, running it, and the outcomes of its calls and visits.

A plan moves only through `TRANSITIONS` (plan → active → running → closed, or invalid from plan or
active, with a reason); an illegal move is a DomainError (409) that writes nothing. Activating
checks the plan is complete (method, content, targets, people for calls and visits), naming the
field. Running writes one touch per targeted customer, set-based; the unique constraint
(plan, customer) and the plan's row lock make a second run, or a concurrent one, write nothing
twice. SMS and e-mails leave through the outbox as contact-addressed messages the notifications
consumer turns into deliveries; letters wait for the plan's letter PDF; calls and visits are tasks.

The subject and text are written in the language of every text people write here
(`core.text_templates`, as the notification templates) with the placeholders in `PLACEHOLDERS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.selectors import own_company
from fieldservice.core import text_templates
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_events, record_updated, snapshot
from fieldservice.core.money import DEFAULT_CURRENCY, parse_currency, parse_money
from fieldservice.core.outbox import emit_many
from fieldservice.core.validation import check_date, check_length
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.models import Contact, Customer
from fieldservice.maintenance.care_permissions import may_manage_care, may_work_on_touch
from fieldservice.maintenance.models.care import (
    MESSAGE_METHODS,
    TASK_METHODS,
    CareMethod,
    CareOccasion,
    CareOutcome,
    CarePlan,
    CarePlanStatus,
    CareTouch,
    CareTouchStatus,
)

S = CarePlanStatus
PLAN_FIELDS = [
    "name",
    "occasion",
    "occasion_note",
    "method",
    "target_tiers",
    "target_kinds",
    "target_industry",
    "chosen",
    "subject",
    "body",
    "currency",
    "budget",
    "actual_cost",
    "starts_on",
    "ends_on",
    "effect_days",
]
# What may still change once a plan runs: what it cost, and when it ends.
RUNNING_FIELDS = frozenset({"actual_cost", "ends_on"})
EDITABLE = frozenset({S.PLAN, S.ACTIVE})
MAX_EFFECT_DAYS = 365
MAX_CHOSEN = 5000
MESSAGE_CHUNK = 200
EVENT = "care.message"

# verb: (states it may start from, state it ends in)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "activate": (frozenset({S.PLAN}), S.ACTIVE),
    "run": (frozenset({S.ACTIVE, S.RUNNING}), S.RUNNING),
    "close": (frozenset({S.RUNNING}), S.CLOSED),
    "invalidate": (frozenset({S.PLAN, S.ACTIVE}), S.INVALID),
}
# The log's action code of each move.
MOVE_ACTIONS = {verb: f"care_{verb}" for verb in TRANSITIONS}

# The placeholders a text may use, with the sample values a text is checked (and previewed) with.
PLACEHOLDERS = ("customer", "customer_code", "contact", "company", "occasion", "plan", "date")


def sample_values() -> dict:
    company = own_company()
    return {
        "customer": _("Ningbo Precision Plastics Co., Ltd."),
        "customer_code": "C-0001",
        "contact": _("Mr Wang"),
        "company": company.name if company else "fieldservice",
        "occasion": _("Spring Festival"),
        "plan": _("Spring Festival greetings"),
        "date": timezone.localdate().isoformat(),
    }


def values_for(plan: CarePlan, customer: Customer, contact: Contact | None, company_name: str) -> dict:
    return {
        "customer": customer.name,
        "customer_code": customer.code,
        "contact": contact.name if contact else "",
        "company": company_name,
        "occasion": plan.occasion_label,
        "plan": plan.name,
        "date": timezone.localdate().isoformat(),
    }


def render_content(subject: str, body: str, values: dict) -> tuple[str, str]:
    return " ".join(text_templates.render(subject, values).split()), text_templates.render(body, values)


def _check_text(source: str, field: str) -> str:
    values = sample_values()
    return text_templates.check(source, field, lambda text: text_templates.render(text, values))


# Writing a plan -----------------------------------------------------------------------------------


def _choices(values, allowed, field: str) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise field_error(field, _("Choose from the list."), "invalid_choice")
    cleaned = []
    for value in values:
        if value not in allowed:
            raise field_error(field, _("“%(value)s” is not one of the choices.") % {"value": value}, "invalid_choice")
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _ids(values, field: str) -> list[int]:
    values = list(values or [])
    if len(values) > MAX_CHOSEN:
        raise field_error(field, _("At most %(n)d.") % {"n": MAX_CHOSEN}, "max_length")
    ids = []
    for value in values:
        pk = value.pk if hasattr(value, "pk") else value
        if not isinstance(pk, int) or isinstance(pk, bool) or pk < 1:
            raise field_error(field, _("Choose from the list."), "invalid_choice")
        if pk not in ids:
            ids.append(pk)
    return ids


def _customers(values) -> list[int]:
    ids = _ids(values, "customers")
    found = set(Customer.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise field_error("customers", _("No active customer with id %(id)s.") % {"id": missing[0]}, "does_not_exist")
    return ids


def _participants(values) -> list[int]:
    ids = _ids(values, "participants")
    found = set(
        User.objects.filter(pk__in=ids, is_active=True, organisation__kind=OrganisationKind.OWN).values_list(
            "pk", flat=True
        )
    )
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise field_error(
            "participants",
            _("User %(id)s is not an active member of our own staff.") % {"id": missing[0]},
            "does_not_exist",
        )
    return ids


def _clean(values: dict, plan: CarePlan | None) -> dict:
    """The fields given, checked; `plan` None: a new plan (name, occasion and start required)."""
    cleaned: dict = {}
    for name, value in values.items():
        if name in ("name", "occasion_note", "target_industry", "subject"):
            text = check_length(value, model=CarePlan, field=name)
            if name == "name" and not text:
                raise field_error("name", _("This field is required."), "required")
            if name == "subject" and text:
                _check_text(text, "subject")
            cleaned[name] = text
        elif name == "body":
            text = (value or "").strip()
            limit = CarePlan._meta.get_field("body").max_length
            if len(text) > limit:
                raise field_error("body", _("At most %(n)d characters.") % {"n": limit}, "max_length")
            if text:
                _check_text(text, "body")
            cleaned[name] = text
        elif name == "occasion":
            if value not in CareOccasion.values:
                raise field_error("occasion", _("Choose an occasion."), "invalid_choice")
            cleaned[name] = value
        elif name == "method":
            if value not in ("", None, *CareMethod.values):
                raise field_error("method", _("Choose a method."), "invalid_choice")
            cleaned[name] = value or ""
        elif name == "target_tiers":
            cleaned[name] = _choices(value, CustomerTier.values, name)
        elif name == "target_kinds":
            cleaned[name] = _choices(value, CustomerKind.values, name)
        elif name == "chosen":
            cleaned[name] = bool(value)
        elif name == "customers":
            cleaned[name] = _customers(value)
        elif name == "participants":
            cleaned[name] = _participants(value)
        elif name == "currency":
            cleaned[name] = parse_currency(value or DEFAULT_CURRENCY)
        elif name in ("budget", "actual_cost"):
            cleaned[name] = parse_money(value, name) or Decimal("0")
        elif name == "starts_on":
            if value is None:
                raise field_error("starts_on", _("This field is required."), "required")
            cleaned[name] = check_date(value, field=name)
        elif name == "ends_on":
            cleaned[name] = check_date(value, field=name)
        elif name == "effect_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EFFECT_DAYS:
                raise field_error(
                    "effect_days", _("Enter a number of days from 1 to %(n)d.") % {"n": MAX_EFFECT_DAYS}, "out_of_range"
                )
            cleaned[name] = value
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
    if plan is None:
        for required in ("name", "occasion", "starts_on"):
            if required not in cleaned:
                raise field_error(required, _("This field is required."), "required")
    starts_on = cleaned.get("starts_on", plan.starts_on if plan else None)
    ends_on = cleaned.get("ends_on", plan.ends_on if plan else None)
    if starts_on and ends_on and ends_on < starts_on:
        raise field_error("ends_on", _("The end cannot be before the start."), "before_start")
    return cleaned


def _save_relations(plan: CarePlan, cleaned: dict) -> None:
    if "customers" in cleaned:
        plan.customers.set(cleaned["customers"])
    if "participants" in cleaned:
        plan.participants.set(cleaned["participants"])


@transaction.atomic
def create_care_plan(*, actor: User, **fields) -> CarePlan:
    """A plan in state "plan". Fields: name, occasion, starts_on (required); occasion_note, method,
    target_tiers, target_kinds, target_industry, chosen, customers (ids), subject, body,
    participants (ids), currency, budget, actual_cost, ends_on, effect_days."""
    require(may_manage_care(actor))
    cleaned = _clean(fields, None)
    columns = {name: value for name, value in cleaned.items() if name not in ("customers", "participants")}
    plan = CarePlan.objects.create(created_by=actor, **columns)
    _save_relations(plan, cleaned)
    record_created(plan, actor=actor, fields=PLAN_FIELDS)
    return plan


@transaction.atomic
def update_care_plan(plan: CarePlan, *, actor: User, **fields) -> CarePlan:
    """Change the fields given. Before it runs anything may change (an active plan stays complete);
    once running or closed, only the actual cost and the end date; an invalid plan, nothing."""
    require(may_manage_care(actor))
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == S.INVALID:
        raise DomainError("plan_invalid", _("An invalidated care plan cannot be changed."))
    if plan.status not in EDITABLE:
        locked = sorted(set(fields) - RUNNING_FIELDS)
        if locked:
            raise DomainError(
                "plan_running",
                _("Once a care plan runs, only its actual cost and end date may change (not %(field)s).")
                % {"field": locked[0]},
            )
    cleaned = _clean(fields, plan)
    before = snapshot(plan, PLAN_FIELDS)
    for name, value in cleaned.items():
        if name not in ("customers", "participants"):
            setattr(plan, name, value)
    plan.save()
    _save_relations(plan, cleaned)
    if plan.status == S.ACTIVE:
        check_complete(plan)
    note = _("targets or people changed") if {"customers", "participants"} & set(cleaned) else ""
    if record_updated(plan, actor=actor, before=before, note=note) is None and note:
        record_event(plan, actor=actor, action="updated", note=note)
    return plan


# Targets --------------------------------------------------------------------------------------------


def target_customers(plan: CarePlan) -> QuerySet[Customer]:
    """The customers the plan reaches: the chosen ones, or those of its tiers, kinds and industry
    (an empty choice: any). Active customers only."""
    customers = Customer.objects.filter(is_active=True)
    if plan.chosen:
        return customers.filter(pk__in=plan.customers.values("pk"))
    if plan.target_tiers:
        customers = customers.filter(tier__in=plan.target_tiers)
    if plan.target_kinds:
        customers = customers.filter(kind__in=plan.target_kinds)
    if plan.target_industry:
        customers = customers.filter(industry__icontains=plan.target_industry)
    return customers


def check_complete(plan: CarePlan) -> None:
    """What a plan needs before it may go active, each refusal naming its field."""
    if not plan.method:
        raise field_error("method", _("Choose how the customers are reached."), "required")
    if not plan.body:
        raise field_error("body", _("Write the text of the message, letter or call."), "required")
    if plan.method in (CareMethod.EMAIL, CareMethod.LETTER) and not plan.subject:
        raise field_error("subject", _("An e-mail or a letter needs a subject."), "required")
    if plan.chosen:
        if not plan.customers.exists():
            raise field_error("customers", _("Choose at least one customer."), "required")
    elif not plan.target_tiers and not plan.target_kinds and not plan.target_industry:
        raise field_error(
            "target_tiers", _("Choose the tiers or kinds of customer, or choose the customers."), "required"
        )
    if not target_customers(plan).exists():
        field = "customers" if plan.chosen else "target_tiers"
        raise field_error(field, _("No active customer matches these targets."), "no_targets")
    if plan.method in TASK_METHODS and not plan.participants.filter(is_active=True).exists():
        raise field_error("participants", _("Name who makes the calls or visits."), "required")


# Moves ----------------------------------------------------------------------------------------------


def _move(plan: CarePlan, verb: str, *, actor: User | None, note: str = "", **changes) -> CarePlan:
    """Lock the plan, check the move is allowed from its state, and make it. Nothing is written
    when it is not."""
    sources, target = TRANSITIONS[verb]
    plan = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in sources:
        raise DomainError(
            "illegal_transition",
            _("A care plan that is “%(status)s” cannot be moved that way (%(verb)s).")
            % {"status": plan.get_status_display(), "verb": verb},
        )
    before = plan.status
    plan.status = target
    for name, value in changes.items():
        setattr(plan, name, value)
    plan.save()
    if before != target:
        record_event(plan, actor=actor, action=MOVE_ACTIONS[verb], changes={"status": [before, target]}, note=note)
    return plan


@transaction.atomic
def activate_care_plan(plan: CarePlan, *, actor: User) -> CarePlan:
    require(may_manage_care(actor))
    locked = CarePlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status in TRANSITIONS["activate"][0]:
        check_complete(locked)
    return _move(locked, "activate", actor=actor)


@transaction.atomic
def close_care_plan(plan: CarePlan, *, actor: User) -> CarePlan:
    require(may_manage_care(actor))
    return _move(plan, "close", actor=actor, closed_at=timezone.now())


@transaction.atomic
def invalidate_care_plan(plan: CarePlan, *, actor: User, reason: str) -> CarePlan:
    require(may_manage_care(actor))
    reason = check_length(reason, model=CarePlan, field="invalid_reason", name="reason")
    if not reason:
        raise field_error("reason", _("Give a reason."), "required")
    return _move(plan, "invalidate", actor=actor, note=reason, invalid_reason=reason)


# Running --------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    created: int = 0
    tasks: int = 0
    messages: int = 0
    letters: int = 0
    skipped: int = 0


def _contacts_of(customer_ids: list[int], method: str) -> dict[int, Contact]:
    """The contact each customer is reached through: the primary one, or the first; for an
    e-mail, the first with an address."""
    chosen: dict[int, Contact] = {}
    contacts = Contact.objects.filter(customer_id__in=customer_ids).order_by("customer_id", "-is_primary", "name", "pk")
    if method == CareMethod.EMAIL:
        contacts = contacts.exclude(email="")
    for contact in contacts.iterator(chunk_size=2000):
        chosen.setdefault(contact.customer_id, contact)
    return chosen


def _assignees(plan: CarePlan) -> list[int]:
    return list(plan.participants.filter(is_active=True).order_by("pk").values_list("pk", flat=True))


def _touch_status(method: str, contact: Contact | None) -> str:
    if method in TASK_METHODS:
        return CareTouchStatus.OPEN
    if method == CareMethod.LETTER:
        return CareTouchStatus.PRINTED
    if contact is None or (method == CareMethod.EMAIL and not contact.email):
        return CareTouchStatus.SKIPPED
    return CareTouchStatus.SENT


@transaction.atomic
def run_care_plan(plan: CarePlan, *, actor: User | None) -> RunSummary:
    """Touch every targeted customer not touched yet (an active plan becomes running). `actor`
    None: the periodic check on the start date."""
    if actor is not None:
        require(may_manage_care(actor))
    plan = _move(plan, "run", actor=actor)  # locks the plan: runs of one plan queue
    now = timezone.now()
    if plan.run_at is None:
        CarePlan.objects.filter(pk=plan.pk).update(run_at=now)
        plan.run_at = now
    done = set(CareTouch.objects.filter(plan=plan).values_list("customer_id", flat=True))
    customers = [c for c in target_customers(plan).order_by("name", "pk") if c.pk not in done]
    summary = RunSummary()
    if not customers:
        return summary
    contacts = _contacts_of([c.pk for c in customers], plan.method)
    assignees = _assignees(plan)
    company = own_company()
    company_name = company.name if company else ""
    effect_until = now + dt.timedelta(days=plan.effect_days)
    rows = []
    for index, customer in enumerate(customers):
        contact = contacts.get(customer.pk)
        subject, body = render_content(plan.subject, plan.body, values_for(plan, customer, contact, company_name))
        assignee = None
        if plan.method in TASK_METHODS and assignees:
            # The customer's own account owner when he takes part; else in turn.
            owner = customer.account_owner_id
            assignee = owner if owner in assignees else assignees[index % len(assignees)]
        rows.append(
            CareTouch(
                plan=plan,
                customer=customer,
                contact=contact,
                method=plan.method,
                status=_touch_status(plan.method, contact),
                assignee_id=assignee,
                to_name=contact.name if contact else "",
                to_phone=contact.phone if contact else "",
                to_email=contact.email if contact else "",
                subject=subject[: CareTouch._meta.get_field("subject").max_length],
                body=body,
                touched_at=now,
                effect_until=effect_until,
            )
        )
    CareTouch.objects.bulk_create(rows, batch_size=1000)
    touches = list(CareTouch.objects.filter(plan=plan, customer_id__in=[c.pk for c in customers]).order_by("pk"))
    record_events(touches, actor=actor, action="care_touched")
    summary.created = len(touches)
    summary.tasks = sum(1 for t in touches if t.status == CareTouchStatus.OPEN)
    summary.letters = sum(1 for t in touches if t.status == CareTouchStatus.PRINTED)
    summary.skipped = sum(1 for t in touches if t.status == CareTouchStatus.SKIPPED)
    sent = [t for t in touches if t.status == CareTouchStatus.SENT]
    summary.messages = len(sent)
    if plan.method in MESSAGE_METHODS and sent:
        _emit_messages(plan, sent)
    record_event(
        plan,
        actor=actor,
        action="care_run",
        note=_("%(n)s customers touched") % {"n": summary.created},
    )
    return summary


def _emit_messages(plan: CarePlan, touches: list[CareTouch]) -> None:
    """Contact-addressed outbox messages (see notifications.consumers.notify_contacts), in chunks;
    each keyed by its first touch, so a message is stored once."""
    channel = "sms" if plan.method == CareMethod.SMS else "email"
    messages = []
    for start in range(0, len(touches), MESSAGE_CHUNK):
        chunk = touches[start : start + MESSAGE_CHUNK]
        contacts = [
            {
                "ref": f"care-touch-{touch.pk}",
                "name": touch.to_name,
                "channel": channel,
                "phone": touch.to_phone,
                "email": touch.to_email,
                "subject": touch.subject or plan.name,
                "body": touch.body,
            }
            for touch in chunk
        ]
        messages.append((EVENT, {"event": EVENT, "plan": plan.pk, "contacts": contacts}, f"care:{chunk[0].pk}"))
    emit_many(messages)


def run_due_care_plans(today: dt.date | None = None) -> dict:
    """The periodic check ("maintenance.care_plans"): every active plan whose start date has come
    runs, each in its own transaction (one plan's failure does not hold up the others)."""
    today = today or timezone.localdate()
    ran, touched = 0, 0
    for plan in CarePlan.objects.filter(status=S.ACTIVE, starts_on__lte=today).order_by("starts_on", "pk"):
        try:
            summary = run_care_plan(plan, actor=None)
        except DomainError:
            continue  # moved meanwhile (invalidated, run by hand)
        ran += 1
        touched += summary.created
    return {"plans_run": ran, "customers_touched": touched}


# Tasks -----------------------------------------------------------------------------------------------


@transaction.atomic
def record_care_outcome(touch: CareTouch, *, actor: User, outcome: str, note: str = "") -> CareTouch:
    """The outcome of a call or a visit, by its assignee or a care manager; recorded again, it
    corrects the first."""
    require(may_work_on_touch(actor, touch))
    touch = CareTouch.objects.select_for_update().select_related("plan").get(pk=touch.pk)
    if touch.method not in TASK_METHODS:
        raise DomainError("not_a_task", _("Only a call or a visit has an outcome to record."))
    if touch.plan.status != S.RUNNING:
        raise DomainError("plan_not_running", _("The care plan is not running: its tasks are closed."))
    if outcome not in CareOutcome.values:
        raise field_error("outcome", _("Choose an outcome."), "invalid_choice")
    note = check_length(note, model=CareTouch, field="outcome_note", name="note")
    before = snapshot(touch, ["status", "outcome", "outcome_note"])
    touch.status = CareTouchStatus.DONE
    touch.outcome = outcome
    touch.outcome_note = note
    touch.done_at = timezone.now()
    touch.done_by = actor
    touch.save(update_fields=["status", "outcome", "outcome_note", "done_at", "done_by"])
    record_updated(touch, actor=actor, before=before)
    return touch


def preview_content(
    *, actor: User, subject: str, body: str, customer: Customer | None = None, name: str = "", occasion: str = ""
) -> tuple[str, str]:
    """What the subject and text say for one customer (its primary contact), or with the sample
    values. Raises ValidationError, naming the field, as saving would."""
    require(may_manage_care(actor))
    subject = check_length(subject, model=CarePlan, field="subject")
    body = (body or "").strip()
    _check_text(subject, "subject")
    _check_text(body, "body")
    if customer is None:
        return render_content(subject, body, sample_values())
    contact = _contacts_of([customer.pk], CareMethod.SMS).get(customer.pk)
    company = own_company()
    plan = CarePlan(
        name=name or _("Preview"), occasion=occasion if occasion in CareOccasion.values else CareOccasion.OTHER
    )
    return render_content(subject, body, values_for(plan, customer, contact, company.name if company else ""))
