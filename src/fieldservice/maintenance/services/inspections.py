"""Inspections (巡检) in four steps.

1. The product-line owner starts an inspection for one site of a customer: its machines, the
   health-check template, the site's open issues to look at, the owner and the engineers; he sends
   it and the customer approves (or declines) on the follow link or in the portal.
2. Approval opens one work order per machine (service type inspection, channel proactive) with the
   template's steps; the engineers check the machines on their phones.
3. Every problem found is a finding with a disposition: fixed on the spot, a recommendation, a
   change the customer must approve, or a repair order opened from it.
4. The report goes to the customer to confirm; the confirmation is written on each machine's
   history, and the owner closes the inspection.

Every move goes through `_move` and the table `TRANSITIONS`: an illegal move raises a DomainError
(409 in the API) and writes nothing; a legal one writes an event on the inspection and a line on
each machine's history.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.assets.models import Equipment
from fieldservice.assets.services import add_months
from fieldservice.core.choices import ServiceType
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_event
from fieldservice.core.outbox import emit
from fieldservice.core.uploads import check_image
from fieldservice.core.validation import check_date
from fieldservice.customers.models import Customer, Site
from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.field.choices import ReportLayout
from fieldservice.field.models import JobTemplate
from fieldservice.field.services import attach_job_steps
from fieldservice.maintenance.models import Finding, Inspection, InspectionItem, InspectionMachine
from fieldservice.maintenance.models.inspections import (
    ChangeDecision,
    FindingDisposition,
    FindingSeverity,
    InspectionStatus,
)
from fieldservice.maintenance.selectors.inspections import (
    is_customer_of,
    is_engineer_on,
    may_manage_inspections,
    may_work_on_inspection,
    open_issues_of,
)
from fieldservice.workorders.choices import AttachmentKind, Channel, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.intake import PHOTO_LIMIT, attach_file, create_work_order, file_request
from fieldservice.workorders.services.lifecycle import cancel_work_order

S = InspectionStatus
# Orders an inspection's cancellation takes with it: not yet worked on site.
CANCELLABLE_ORDERS = frozenset({WorkOrderStatus.NEW, WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED})
MAX_MACHINES = 200

# verb: (the states it may leave, the state it reaches)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "send": (frozenset({S.DRAFT}), S.SENT),
    "approve": (frozenset({S.SENT}), S.APPROVED),
    "decline": (frozenset({S.SENT}), S.DECLINED),
    "revise": (frozenset({S.DECLINED}), S.DRAFT),
    "start": (frozenset({S.APPROVED}), S.IN_PROGRESS),
    "send_report": (frozenset({S.IN_PROGRESS, S.REPORTED}), S.REPORTED),
    "confirm": (frozenset({S.REPORTED}), S.CONFIRMED),
    "close": (frozenset({S.CONFIRMED}), S.CLOSED),
    "cancel": (frozenset({S.DRAFT, S.SENT, S.APPROVED, S.DECLINED, S.IN_PROGRESS}), S.CANCELLED),
}

# The words of this topic's log entries (registered in apps.py).
ACTION_LABELS = {
    "inspection_created": gettext_lazy("inspection started"),
    "inspection_send": gettext_lazy("inspection sent to the customer"),
    "inspection_approve": gettext_lazy("inspection approved by the customer"),
    "inspection_decline": gettext_lazy("inspection declined by the customer"),
    "inspection_revise": gettext_lazy("inspection revised"),
    "inspection_start": gettext_lazy("inspection under way"),
    "inspection_send_report": gettext_lazy("inspection report sent"),
    "inspection_confirm": gettext_lazy("inspection report confirmed and archived"),
    "inspection_close": gettext_lazy("inspection closed"),
    "inspection_cancel": gettext_lazy("inspection cancelled"),
    "inspection_report_comment": gettext_lazy("customer commented on the inspection report"),
    "inspection_finding": gettext_lazy("inspection finding recorded"),
    "inspection_change_decided": gettext_lazy("customer decided on a change"),
}


# Checks ------------------------------------------------------------------------------------------


def _text(value, name: str, limit: int, *, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise field_error(name, _("Enter text."), "invalid")
    text = (value or "").strip()
    if "\x00" in text:
        raise field_error(name, _("Enter text."), "invalid")
    if required and not text:
        raise field_error(name, _("This field is required."), "required")
    if len(text) > limit:
        raise field_error(name, _("At most %(n)d characters.") % {"n": limit}, "max_length")
    return text


def _ids(values, name: str) -> list[int]:
    ids = []
    for value in values or ():
        pk = getattr(value, "pk", value)
        if isinstance(pk, bool) or not isinstance(pk, int | str):
            raise field_error(name, _("Unknown choice."), "invalid_choice")
        pk = str(pk).strip()
        if not (pk.isascii() and pk.isdigit() and 0 < len(pk) < 10):
            raise field_error(name, _("Unknown choice."), "invalid_choice")
        if int(pk) not in ids:
            ids.append(int(pk))
    return ids


def check_template(template: JobTemplate | None) -> JobTemplate:
    if template is None:
        raise field_error("template", _("Choose the health-check template."), "required")
    if template.service_type != ServiceType.INSPECTION or not template.is_active:
        raise field_error(
            "template", _("Choose an active job template for the inspection service type."), "wrong_service_type"
        )
    return template


def _check_owner(owner: User | None) -> User:
    if owner is None:
        raise field_error("owner", _("Name the owner of the inspection."), "required")
    # The owner's name opens the machines' work orders when the customer approves.
    if not owner.is_active or not may_manage_inspections(owner) or not may_manage_orders(owner):
        raise field_error(
            "owner",
            _("The owner must be one of our staff who runs inspections and opens work orders."),
            "invalid_choice",
        )
    return owner


def _check_engineers(engineers: Iterable[User], customer: Customer) -> list[User]:
    checked = []
    for engineer in engineers or ():
        if not engineer.is_active or not engineer.has_role(Role.ENGINEER):
            raise field_error(
                "engineers", _("%(name)s is not an active engineer.") % {"name": engineer}, "not_an_engineer"
            )
        organisation = engineer.organisation
        serves = organisation is not None and (
            organisation.kind == OrganisationKind.OWN
            or (organisation.kind == OrganisationKind.PROVIDER and organisation.pk == customer.service_provider_id)
        )
        if not serves:
            raise field_error(
                "engineers",
                _("%(name)s works for a company that does not serve this customer.") % {"name": engineer},
                "invalid_choice",
            )
        if engineer not in checked:
            checked.append(engineer)
    return checked


def _check_machines(equipment_ids, customer: Customer, site: Site) -> list[Equipment]:
    ids = _ids(equipment_ids, "equipment")
    if not ids:
        raise field_error("equipment", _("Choose at least one machine."), "required")
    if len(ids) > MAX_MACHINES:
        raise field_error("equipment", _("At most %(n)d machines.") % {"n": MAX_MACHINES}, "too_many")
    machines = {e.pk: e for e in Equipment.objects.filter(pk__in=ids)}
    for pk in ids:
        machine = machines.get(pk)
        if machine is None or machine.customer_id != customer.pk:
            raise field_error(
                "equipment", _("Machine %(id)s is not one of the customer's.") % {"id": pk}, "invalid_choice"
            )
        if machine.site_id != site.pk:
            raise field_error(
                "equipment",
                _("Machine %(serial)s is at another site.") % {"serial": machine.serial_number},
                "other_site",
            )
        if not machine.is_registered:
            raise field_error(
                "equipment",
                _("Machine %(serial)s is not registered.") % {"serial": machine.serial_number},
                "not_registered",
            )
    return [machines[pk] for pk in ids]


def _next_number(on: dt.date | None = None) -> str:
    on = on or timezone.localdate()
    prefix = f"IN{on.year}-"
    last = (
        Inspection.objects.filter(number__startswith=prefix)
        .order_by(Length("number").desc(), "-number")
        .values_list("number", flat=True)
        .first()
    )
    tail = last[len(prefix) :] if last else "0"
    serial = int(tail) + 1 if tail.isdigit() else Inspection.objects.filter(number__startswith=prefix).count() + 1
    return f"{prefix}{serial:05d}"


# Starting an inspection -----------------------------------------------------------------------------


@transaction.atomic
def create_inspection(
    *,
    actor: User,
    customer: Customer,
    site: Site,
    equipment: Iterable,
    template: JobTemplate | None,
    owner: User | None = None,
    engineers: Iterable[User] = (),
    title: str = "",
    planned_on=None,
    note: str = "",
    issue_orders: Iterable = (),
    issue_requests: Iterable = (),
) -> Inspection:
    """A draft inspection of machines of one site. `issue_orders` / `issue_requests` pick among the
    machines' open orders and requests (see `open_issues_of`) those the engineer is to look at."""
    require(may_manage_inspections(actor))
    if site is None:
        raise field_error("site", _("Choose the site."), "required")
    if site.customer_id != customer.pk:
        raise field_error("site", _("The site belongs to another customer."), "invalid_choice")
    template = check_template(template)
    owner = _check_owner(owner or actor)
    engineers = _check_engineers(engineers, customer)
    machines = _check_machines(equipment, customer, site)
    title = _text(title, "title", 200) or _("Inspection of %(site)s") % {"site": site.name}
    note = _text(note, "note", 5000)
    if planned_on not in (None, ""):
        if isinstance(planned_on, str):
            try:
                planned_on = dt.date.fromisoformat(planned_on.strip())
            except ValueError:
                raise field_error("planned_on", _("Enter a date such as 2026-12-31."), "invalid") from None
        check_date(planned_on, field="planned_on")
    else:
        planned_on = None
    open_orders, open_requests = open_issues_of(machines)
    orders_by_id = {o.pk: o for o in open_orders}
    requests_by_id = {r.pk: r for r in open_requests}
    picked_orders = []
    for pk in _ids(issue_orders, "issue_orders"):
        if pk not in orders_by_id:
            raise field_error("issue_orders", _("Pick only open orders of the chosen machines."), "invalid_choice")
        picked_orders.append(orders_by_id[pk])
    picked_requests = []
    for pk in _ids(issue_requests, "issue_requests"):
        if pk not in requests_by_id:
            raise field_error("issue_requests", _("Pick only open requests of the chosen machines."), "invalid_choice")
        picked_requests.append(requests_by_id[pk])
    for _attempt in range(5):
        try:
            with transaction.atomic():
                inspection = Inspection.objects.create(
                    number=_next_number(),
                    title=title,
                    customer=customer,
                    site=site,
                    template=template,
                    owner=owner,
                    planned_on=planned_on,
                    note=note,
                    created_by=actor,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five writers at once
        raise DomainError("number_taken", _("Please try again."))
    inspection.engineers.set(engineers)
    lines = InspectionMachine.objects.bulk_create(
        InspectionMachine(inspection=inspection, equipment=machine, position=index)
        for index, machine in enumerate(machines, start=1)
    )
    line_of = {line.equipment_id: line for line in lines}
    items = [
        InspectionItem(machine=line_of[o.equipment_id], work_order=o, title=f"{o.number}: {o.description[:250]}")
        for o in picked_orders
    ] + [
        InspectionItem(machine=line_of[r.equipment_id], request=r, title=f"{r.number}: {r.description[:250]}")
        for r in picked_requests
    ]
    InspectionItem.objects.bulk_create(items)
    record_event(
        inspection,
        actor=actor,
        action="inspection_created",
        changes={
            "status": [None, str(S.DRAFT.label)],
            "machines": [None, len(machines)],
            "template": [None, template.name],
            "owner": [None, str(owner)],
        },
        related=customer,
    )
    for machine in machines:
        record_event(machine, actor=actor, action="inspection_created", related=inspection, note=inspection.number)
    return inspection


# Moves ------------------------------------------------------------------------------------------------


def _lock(inspection: Inspection) -> Inspection:
    return (
        Inspection.objects.select_for_update()
        .select_related("customer", "site", "template", "owner")
        .get(pk=inspection.pk)
    )


def check_move(inspection: Inspection, verb: str) -> None:
    allowed, _target = TRANSITIONS[verb]
    if inspection.status not in allowed:
        raise DomainError(
            "illegal_transition",
            _("Inspection %(number)s is %(status)s; this cannot be done now.")
            % {"number": inspection.number, "status": inspection.get_status_display()},
        )


# The log's action code of each move.
MOVE_ACTIONS = {verb: f"inspection_{verb}" for verb in TRANSITIONS}


def allowed_verbs(inspection: Inspection) -> list[str]:
    return [verb for verb, (allowed, _target) in TRANSITIONS.items() if inspection.status in allowed]


def _move(current: Inspection, verb: str, *, actor, fields: Iterable[str] = (), changes=None, note: str = "") -> None:
    """Write the move already checked by `check_move` on the locked row: the status, the fields
    the caller set, an event on the inspection and a line on each machine's history."""
    before = current.get_status_display()
    current.status = TRANSITIONS[verb][1]
    current.save(update_fields=["status", "updated_at", *fields])
    actor = actor if getattr(actor, "pk", None) else None
    record_event(
        current,
        actor=actor,
        action=MOVE_ACTIONS[verb],
        changes={"status": [before, current.get_status_display()], **(changes or {})},
        related=current.customer,
        note=note,
    )
    for line in current.machines.select_related("equipment"):
        record_event(line.equipment, actor=actor, action=MOVE_ACTIONS[verb], related=current, note=current.number)
    _notify(current, verb, actor)


# Who hears of which move, through the outbox (producer-addressed: the notifications consumer
# delivers it to the people named): the customer of what awaits him, the owner of his answers.
TO_CUSTOMER = frozenset({"send", "send_report"})
TO_OWNER = frozenset({"approve", "decline", "confirm", "report_comment", "change_decided"})


def _notify(inspection: Inspection, verb: str, actor) -> None:
    if verb in TO_CUSTOMER:
        recipients = (
            list(
                User.objects.filter(is_active=True, organisation_id=inspection.customer.organisation_id).values_list(
                    "pk", flat=True
                )
            )
            if inspection.customer.organisation_id
            else []
        )
        url = reverse("portal:inspection", args=[inspection.follow_token])
    elif verb in TO_OWNER:
        recipients = [inspection.owner_id]
        if verb == "approve":
            recipients += list(inspection.engineers.values_list("pk", flat=True))
        url = reverse("maintenance:inspection_detail", args=[inspection.pk])
    else:
        return
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "number": inspection.number,
            "title": inspection.title[:300],
            "customer": str(inspection.customer)[:300],
            "status": str(inspection.get_status_display()),
        }
    emit(
        f"inspection.{verb}",
        {
            "event": f"inspection.{verb}",
            "recipients": recipients,
            "context": context,
            "url": url,
            "inspection": inspection.pk,
            "actor": getattr(actor, "pk", None),
        },
    )


def _check_customer(inspection: Inspection, actor, follow_token: str) -> None:
    """The customer decides: a user of his company, or whoever holds the follow link."""
    if follow_token:
        if not hmac.compare_digest(str(follow_token), inspection.follow_token):
            raise PermissionDenied
        return
    require(actor is not None and is_customer_of(actor, inspection.customer))


@transaction.atomic
def send_inspection(inspection: Inspection, *, actor: User) -> Inspection:
    require(may_manage_inspections(actor))
    current = _lock(inspection)
    check_move(current, "send")
    _move(current, "send", actor=actor)
    inspection.refresh_from_db()
    return current


@transaction.atomic
def revise_inspection(inspection: Inspection, *, actor: User) -> Inspection:
    """A declined inspection back to draft, to be changed and sent again."""
    require(may_manage_inspections(actor))
    current = _lock(inspection)
    check_move(current, "revise")
    _move(current, "revise", actor=actor)
    inspection.refresh_from_db()
    return current


@transaction.atomic
def approve_inspection(
    inspection: Inspection, *, name: str, actor: User | None = None, follow_token: str = ""
) -> Inspection:
    """The customer approves: one work order per machine is opened, with the template's steps."""
    current = _lock(inspection)
    _check_customer(current, actor, follow_token)
    check_move(current, "approve")
    name = _text(name, "name", 100, required=True)
    current.decided_at = timezone.now()
    current.decided_by_name = name
    orders = _open_orders(current)
    _move(
        current,
        "approve",
        actor=actor,
        fields=["decided_at", "decided_by_name", "request"],
        changes={"work_orders": [None, [o.number for o in orders]]},
        note=name,
    )
    inspection.refresh_from_db()
    return current


@transaction.atomic
def decline_inspection(
    inspection: Inspection, *, reason: str, name: str = "", actor: User | None = None, follow_token: str = ""
) -> Inspection:
    current = _lock(inspection)
    _check_customer(current, actor, follow_token)
    check_move(current, "decline")
    reason = _text(reason, "reason", 500, required=True)
    current.decided_at = timezone.now()
    current.decided_by_name = _text(name, "name", 100)
    current.decline_reason = reason
    _move(
        current,
        "decline",
        actor=actor,
        fields=["decided_at", "decided_by_name", "decline_reason"],
        changes={"decline_reason": [None, reason]},
        note=reason,
    )
    inspection.refresh_from_db()
    return current


def _open_orders(inspection: Inspection) -> list[WorkOrder]:
    """One order per machine, under one proactive request, acting as the inspection's owner."""
    owner = inspection.owner
    request = file_request(
        actor=owner,
        channel=Channel.PROACTIVE,
        customer=inspection.customer,
        service_type=ServiceType.INSPECTION,
        description=_("Inspection %(number)s: %(title)s") % {"number": inspection.number, "title": inspection.title},
    )
    inspection.request = request
    orders = []
    lines = list(inspection.machines.select_related("equipment"))
    for line in lines:
        order = create_work_order(
            request,
            actor=owner,
            site=inspection.site,
            equipment=line.equipment,
            service_type=ServiceType.INSPECTION,
            description=_("Inspection %(number)s: %(title)s")
            % {"number": inspection.number, "title": inspection.title},
        )
        line.work_order = order
        orders.append(order)
    InspectionMachine.objects.bulk_update(lines, ["work_order"])
    attach_job_steps(orders, inspection.template)
    lead = inspection.engineers.order_by("pk").first()
    if lead is not None and may_dispatch(owner):
        for order in orders:
            try:
                with transaction.atomic():
                    dispatch_to_engineer(order, actor=owner, engineer=lead, note=inspection.number)
            except (ValidationError, DomainError):
                # The engineer may be on leave by now: the order waits for the dispatcher.
                continue
    return orders


@transaction.atomic
def start_inspection(inspection: Inspection, *, actor: User) -> Inspection:
    """The engineers are under way (the first finding does it too)."""
    require(may_work_on_inspection(actor, inspection))
    current = _lock(inspection)
    check_move(current, "start")
    _move(current, "start", actor=actor)
    inspection.refresh_from_db()
    return current


@transaction.atomic
def send_report(inspection: Inspection, *, actor: User) -> Inspection:
    """The report goes to the customer (again, as a new version, while he has not confirmed)."""
    require(may_manage_inspections(actor))
    current = _lock(inspection)
    check_move(current, "send_report")
    pending = current.findings.filter(disposition=FindingDisposition.CHANGE, change_decision=ChangeDecision.PENDING)
    current.report_version += 1
    current.report_sent_at = timezone.now()
    if current.template.report_layout == ReportLayout.CERTIFICATE:
        valid_until = add_months(timezone.localdate(), current.certificate_months or 12)
        lines = list(current.machines.all())
        for line in lines:
            line.certificate_number = f"{current.number}-{line.position:02d}"
            line.certificate_valid_until = valid_until
        InspectionMachine.objects.bulk_update(lines, ["certificate_number", "certificate_valid_until"])
    _move(
        current,
        "send_report",
        actor=actor,
        fields=["report_version", "report_sent_at"],
        changes={"report_version": [current.report_version - 1 or None, current.report_version]},
        note=_("%(n)d changes still await the customer.") % {"n": pending.count()} if pending.exists() else "",
    )
    inspection.refresh_from_db()
    return current


@transaction.atomic
def comment_on_report(
    inspection: Inspection, *, comment: str, name: str = "", actor: User | None = None, follow_token: str = ""
) -> Inspection:
    """The customer does not confirm yet: his comments go to the owner, who may send the report again."""
    current = _lock(inspection)
    _check_customer(current, actor, follow_token)
    if current.status != S.REPORTED:
        raise DomainError("illegal_transition", _("There is no report awaiting your confirmation."))
    comment = _text(comment, "comment", 5000, required=True)
    name = _text(name, "name", 100)
    current.customer_comment = comment
    current.save(update_fields=["customer_comment", "updated_at"])
    record_event(
        current,
        actor=actor if getattr(actor, "pk", None) else None,
        action="inspection_report_comment",
        changes={"customer_comment": [None, comment]},
        related=current.customer,
        note=name,
    )
    _notify(current, "report_comment", actor)
    inspection.refresh_from_db()
    return current


@transaction.atomic
def confirm_report(
    inspection: Inspection, *, name: str, actor: User | None = None, follow_token: str = ""
) -> Inspection:
    """The customer confirms the report with his name; the confirmation is archived on every
    machine's history (the event names the report version; the PDF is drawn from the rows)."""
    current = _lock(inspection)
    _check_customer(current, actor, follow_token)
    check_move(current, "confirm")
    name = _text(name, "name", 100, required=True)
    current.confirmed_at = timezone.now()
    current.confirmed_by_name = name
    _move(
        current,
        "confirm",
        actor=actor,
        fields=["confirmed_at", "confirmed_by_name"],
        changes={"report_version": [None, current.report_version], "confirmed_by": [None, name]},
        note=name,
    )
    inspection.refresh_from_db()
    return current


@transaction.atomic
def close_inspection(inspection: Inspection, *, actor: User) -> Inspection:
    require(may_manage_inspections(actor))
    current = _lock(inspection)
    check_move(current, "close")
    current.closed_at = timezone.now()
    _move(current, "close", actor=actor, fields=["closed_at"])
    inspection.refresh_from_db()
    return current


@transaction.atomic
def cancel_inspection(inspection: Inspection, *, actor: User, reason: str) -> Inspection:
    require(may_manage_inspections(actor))
    current = _lock(inspection)
    check_move(current, "cancel")
    reason = _text(reason, "reason", 500, required=True)
    current.cancel_reason = reason
    _cancel_orders(current, actor, reason)
    _move(
        current, "cancel", actor=actor, fields=["cancel_reason"], changes={"cancel_reason": [None, reason]}, note=reason
    )
    inspection.refresh_from_db()
    return current


def _cancel_orders(inspection: Inspection, actor: User, reason: str) -> None:
    """The machines' orders not yet done go with the inspection (through the lifecycle)."""
    opener = actor if may_manage_orders(actor) else inspection.owner
    open_orders = WorkOrder.objects.filter(
        inspection_machine__inspection=inspection, status__in=CANCELLABLE_ORDERS
    ).order_by("pk")
    for order in open_orders:
        cancel_work_order(order, actor=opener, reason=reason)


# Findings -----------------------------------------------------------------------------------------------

FINDING_STATES = frozenset({S.APPROVED, S.IN_PROGRESS})


def _machine_of(inspection: Inspection, machine) -> InspectionMachine:
    pk = getattr(machine, "pk", machine)
    if isinstance(machine, Equipment):
        line = inspection.machines.filter(equipment_id=machine.pk).first()
    else:
        ids = _ids([pk], "machine") if pk not in (None, "") else []
        line = inspection.machines.filter(pk=ids[0]).first() if ids else None
    if line is None:
        raise field_error("machine", _("Choose one of the inspection's machines."), "invalid_choice")
    return line


@transaction.atomic
def record_finding(
    inspection: Inspection,
    *,
    actor: User,
    machine,
    severity: str,
    title: str,
    disposition: str,
    action_taken: str = "",
    recommendation: str = "",
    note: str = "",
    photo=None,
) -> Finding:
    """A problem found on one machine (an InspectionMachine, its id, or the Equipment), with what
    is done about it. A repair opens a repair order that links back; a change waits for the customer."""
    require(may_work_on_inspection(actor, inspection))
    current = _lock(inspection)
    if current.status not in FINDING_STATES:
        raise DomainError(
            "illegal_transition",
            _("Inspection %(number)s is %(status)s; findings are recorded while it is under way.")
            % {"number": current.number, "status": current.get_status_display()},
        )
    line = _machine_of(current, machine)
    if severity not in FindingSeverity.values:
        raise field_error("severity", _("Choose the severity."), "invalid_choice" if severity else "required")
    if disposition not in FindingDisposition.values:
        raise field_error(
            "disposition", _("Say what is done about it."), "invalid_choice" if disposition else "required"
        )
    title = _text(title, "title", 300, required=True)
    action_taken = _text(action_taken, "action_taken", 5000, required=disposition == FindingDisposition.FIXED)
    recommendation = _text(
        recommendation,
        "recommendation",
        5000,
        required=disposition in (FindingDisposition.RECOMMENDATION, FindingDisposition.CHANGE),
    )
    note = _text(note, "note", 5000)
    attachment = None
    if photo:
        check_image(photo, "photo", PHOTO_LIMIT)
        if line.work_order is None:  # pragma: no cover - approval opens every machine's order
            raise field_error("photo", _("The machine has no work order to keep the photo with."), "invalid")
        attachment = attach_file(line.work_order, actor=actor, file=photo, kind=AttachmentKind.PHOTO)
    if current.status == S.APPROVED:
        _move(current, "start", actor=actor)
    finding = Finding.objects.create(
        inspection=current,
        machine=line,
        severity=severity,
        title=title,
        disposition=disposition,
        action_taken=action_taken,
        recommendation=recommendation,
        note=note,
        photo=attachment,
        change_decision=ChangeDecision.PENDING if disposition == FindingDisposition.CHANGE else "",
        recorded_by=actor,
    )
    if disposition == FindingDisposition.REPAIR:
        finding.repair_order = _repair_order(current, line, finding, actor)
        finding.save(update_fields=["repair_order"])
    changes = {
        "title": [None, title],
        "severity": [None, finding.get_severity_display()],
        "disposition": [None, finding.get_disposition_display()],
    }
    if finding.repair_order is not None:
        changes["repair_order"] = [None, finding.repair_order.number]
    record_event(current, actor=actor, action="inspection_finding", changes=changes, related=line.equipment)
    record_event(line.equipment, actor=actor, action="inspection_finding", changes=changes, related=current, note=title)
    return finding


def _repair_order(inspection: Inspection, line: InspectionMachine, finding: Finding, actor: User) -> WorkOrder:
    """Through the intake services, as the actor if he may open orders, else as the owner."""
    opener = actor if may_manage_orders(actor) else inspection.owner
    description = _("Found on inspection %(number)s: %(title)s") % {"number": inspection.number, "title": finding.title}
    if finding.note:
        description = f"{description}\n{finding.note}"
    request = file_request(
        actor=opener,
        channel=Channel.PROACTIVE,
        customer=inspection.customer,
        equipment=line.equipment,
        service_type=ServiceType.REPAIR,
        description=description,
    )
    return create_work_order(request, actor=opener, site=inspection.site)


@transaction.atomic
def decide_change(
    finding: Finding,
    *,
    approve: bool,
    reason: str = "",
    name: str = "",
    actor: User | None = None,
    follow_token: str = "",
) -> Finding:
    """The customer approves or declines a change a finding proposes (once)."""
    inspection = _lock(finding.inspection)
    _check_customer(inspection, actor, follow_token)
    current = Finding.objects.select_for_update().get(pk=finding.pk, inspection=inspection)
    if current.disposition != FindingDisposition.CHANGE or current.change_decision != ChangeDecision.PENDING:
        raise DomainError("already_decided", _("This finding awaits no decision."))
    if inspection.status in (S.CLOSED, S.CANCELLED):
        raise DomainError("illegal_transition", _("The inspection is over."))
    reason = _text(reason, "reason", 500, required=not approve)
    current.change_decision = ChangeDecision.APPROVED if approve else ChangeDecision.DECLINED
    current.change_decided_at = timezone.now()
    current.change_decided_by_name = _text(name, "name", 100)
    current.change_decline_reason = reason
    current.save(
        update_fields=["change_decision", "change_decided_at", "change_decided_by_name", "change_decline_reason"]
    )
    changes = {"change_decision": [str(ChangeDecision.PENDING.label), current.get_change_decision_display()]}
    actor = actor if getattr(actor, "pk", None) else None
    record_event(inspection, actor=actor, action="inspection_change_decided", changes=changes, note=current.title)
    record_event(
        current.machine.equipment, actor=actor, action="inspection_change_decided", changes=changes, related=inspection
    )
    _notify(inspection, "change_decided", actor)
    finding.refresh_from_db()
    return current


__all__ = [
    "TRANSITIONS",
    "allowed_verbs",
    "approve_inspection",
    "cancel_inspection",
    "check_move",
    "close_inspection",
    "comment_on_report",
    "confirm_report",
    "create_inspection",
    "decide_change",
    "decline_inspection",
    "is_engineer_on",
    "record_finding",
    "revise_inspection",
    "send_inspection",
    "send_report",
    "start_inspection",
]
