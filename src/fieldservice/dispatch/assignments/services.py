"""Giving work orders to engineers and providers, and their answers.

Claims are compare-and-set updates on the assignment row that must change exactly one row,
so two simultaneous accepts (a double tap, two devices) leave one winner and a clear error.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, Organisation, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.db import insert_rows
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.dispatch import hooks
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.workorders.choices import OPEN_STATUSES, Transition, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.lifecycle import Step, transition, transition_many
from fieldservice.workorders.services.log import log_event


def _check_engineer(engineer: User, *, organisation_id: int | None = None) -> None:
    if not engineer.is_active or not engineer.has_role(Role.ENGINEER):
        raise field_error("engineer", _("%(name)s is not an active engineer.") % {"name": engineer}, "not_an_engineer")
    if organisation_id is not None and engineer.organisation_id != organisation_id:
        raise field_error("engineer", _("%(name)s works for another company.") % {"name": engineer}, "invalid_choice")
    # Read now, not from a profile cached on the user object, which may predate the leave.
    if EngineerProfile.objects.filter(user=engineer, availability=Availability.ON_LEAVE).exists():
        raise field_error("engineer", _("%(name)s is on leave.") % {"name": engineer}, "on_leave")


def _check_engineer_for_order(engineer: User, order: WorkOrder) -> None:
    """Our engineers may take any order; a provider's engineers only orders of the customers
    that provider serves (the same people `candidates_for` suggests)."""
    _check_engineer(engineer)
    organisation = engineer.organisation
    if organisation is not None and (
        organisation.kind == OrganisationKind.OWN
        or (organisation.kind == OrganisationKind.PROVIDER and organisation.pk == order.customer.service_provider_id)
    ):
        return
    raise field_error(
        "engineer",
        _("%(name)s works for a company that does not serve this customer.") % {"name": engineer},
        "invalid_choice",
    )


def provider_of(engineer: User | None) -> Organisation | None:
    """The partner company an engineer works for, if any: whatever gives an order to one of a
    provider's engineers gives it to the provider too, so the provider sees and manages it."""
    if engineer is None:
        return None
    organisation = engineer.organisation
    if organisation is not None and organisation.kind == OrganisationKind.PROVIDER:
        return organisation
    return None


def _create(order: WorkOrder, **fields) -> Assignment:
    if fields.get("provider") is None:
        fields["provider"] = provider_of(fields.get("engineer"))
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(work_order=order, **fields)
            if fields.get("role") == AssignmentRole.LEAD:
                hooks.released(order, fields.get("assigned_by"))
            return assignment
    except IntegrityError:
        if fields.get("role") == AssignmentRole.LEAD:
            raise DomainError(
                "already_dispatched",
                _("Work order %(number)s already has a lead engineer or provider; revoke it first.")
                % {"number": order.number},
            ) from None
        raise DomainError(
            "already_assigned", _("This engineer is already on work order %(number)s.") % {"number": order.number}
        ) from None


@transaction.atomic
def dispatch_to_engineer(order: WorkOrder, *, actor: User, engineer: User, note: str = "") -> Assignment:
    """Offer the order to an engineer as its lead."""
    require(may_dispatch(actor))
    _check_engineer_for_order(engineer, order)
    assignment = _create(order, engineer=engineer, role=AssignmentRole.LEAD, assigned_by=actor)
    transition(
        order,
        Transition.DISPATCH,
        actor=actor,
        note=note,
        payload={"engineer": engineer.pk, "engineer_name": str(engineer)},
    )
    return assignment


@transaction.atomic
def dispatch_to_provider(order: WorkOrder, *, actor: User, provider: Organisation, note: str = "") -> Assignment:
    """Give the order to a partner company; its admin picks the engineer."""
    require(may_dispatch(actor))
    if provider.kind != OrganisationKind.PROVIDER or not provider.is_active:
        raise field_error("provider", _("Choose an active service provider."), "invalid_choice")
    assignment = _create(order, provider=provider, role=AssignmentRole.LEAD, assigned_by=actor)
    transition(
        order,
        Transition.DISPATCH,
        actor=actor,
        note=note,
        payload={"provider": provider.pk, "provider_name": str(provider)},
    )
    return assignment


def rule_note(rule) -> str:
    return _("Dispatched automatically by rule “%(rule)s”.") % {"rule": rule.name}


@dataclass(frozen=True)
class RulePick:
    """What a rule gave one order: an engineer or a provider (by id, with the name the log shows)."""

    order_id: int
    rule: DispatchRule
    engineer_id: int | None = None
    provider_id: int | None = None
    name: str = ""


@transaction.atomic
def dispatch_by_rules(picks: Sequence[RulePick]) -> list[int]:
    """The rule engine's dispatch, of one order or a rule pass's thousands at once: no person
    acts, so there is no permission to check; the rule is recorded on each lead assignment and
    named in the service log. The move is the lifecycle's batch path (`transition_many`), so
    the log, the SLA clocks and the messages are those of a dispatcher's click. Returns the
    orders dispatched: one a dispatcher gave out meanwhile is left out. Only
    `dispatch.rules.autodispatch` calls this (never a view or the API)."""
    notes: dict[int, str] = {}
    steps = []
    for pick in picks:
        note = notes.get(pick.rule.pk)
        if note is None:
            note = notes[pick.rule.pk] = rule_note(pick.rule)
        if pick.engineer_id is not None:
            payload = {"engineer": pick.engineer_id, "engineer_name": pick.name, "rule": pick.rule.pk}
        else:
            payload = {"provider": pick.provider_id, "provider_name": pick.name, "rule": pick.rule.pk}
        steps.append(Step(order_id=pick.order_id, note=note, payload=payload))
    moved = {move.order_id for move in transition_many(Transition.DISPATCH, steps, actor=None)}
    # A provider's engineer gives the order to the provider too (`provider_of`).
    employers = dict(
        User.objects.filter(
            pk__in={pick.engineer_id for pick in picks if pick.engineer_id},
            organisation__kind=OrganisationKind.PROVIDER,
        ).values_list("pk", "organisation_id")
    )
    insert_rows(
        Assignment,
        [
            {
                "work_order_id": pick.order_id,
                "engineer_id": pick.engineer_id,
                "provider_id": pick.provider_id or employers.get(pick.engineer_id),
                "rule_id": pick.rule.pk,
            }
            for pick in picks
            if pick.order_id in moved
        ],
        role=AssignmentRole.LEAD,
        status=AssignmentStatus.OFFERED,
        assigned_at=timezone.now(),
    )
    return sorted(moved)


@transaction.atomic
def assign_provider_engineer(assignment: Assignment, *, actor: User, engineer: User) -> Assignment:
    """The provider's admin names which of its engineers takes the order."""
    require(
        can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
        and assignment.provider_id is not None
        and actor.organisation_id == assignment.provider_id
    )
    _check_engineer(engineer, organisation_id=assignment.provider_id)
    try:
        with transaction.atomic():
            changed = Assignment.objects.filter(
                pk=assignment.pk, status=AssignmentStatus.OFFERED, engineer__isnull=True
            ).update(engineer=engineer)
    except IntegrityError:
        # The engineer is already on this order, as a helper.
        raise field_error(
            "engineer",
            _("This engineer is already on work order %(number)s.") % {"number": assignment.work_order.number},
            "already_assigned",
        ) from None
    if changed != 1:
        raise DomainError("already_assigned", _("This order already has an engineer or is no longer offered."))
    assignment.refresh_from_db()
    log_event(
        assignment.work_order,
        actor=actor,
        action="provider_assigned",
        note=str(engineer),
        payload={"engineer": engineer.pk},
    )
    return assignment


def _answer(assignment: Assignment, actor: User, new_status: str, reason: str = "") -> Assignment:
    changed = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.OFFERED).update(
        status=new_status, responded_at=timezone.now(), reason=reason
    )
    if changed != 1:
        current = Assignment.objects.get(pk=assignment.pk)
        raise DomainError(
            "already_answered",
            _("This assignment is already %(status)s.") % {"status": current.get_status_display()},
        )
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def accept_assignment(assignment: Assignment, *, actor: User) -> Assignment:
    require(assignment.engineer_id is not None and actor.pk == assignment.engineer_id)
    assignment = _answer(assignment, actor, AssignmentStatus.ACCEPTED)
    if assignment.role == AssignmentRole.LEAD:
        transition(assignment.work_order, Transition.ACCEPT, actor=actor)
    else:
        log_event(assignment.work_order, actor=actor, action="helper_accepted")
    return assignment


@transaction.atomic
def reject_assignment(assignment: Assignment, *, actor: User, reason: str) -> Assignment:
    """The engineer (or, for a provider's order, its admin) declines; the order goes back to dispatch."""
    require(
        (assignment.engineer_id is not None and actor.pk == assignment.engineer_id)
        or (
            assignment.provider_id is not None
            and actor.organisation_id == assignment.provider_id
            and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
        )
    )
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Say why you reject the order."), "required")
    assignment = _answer(assignment, actor, AssignmentStatus.REJECTED, reason[:500])
    if assignment.role == AssignmentRole.LEAD:
        transition(assignment.work_order, Transition.REJECT, actor=actor, note=reason)
    else:
        log_event(assignment.work_order, actor=actor, action="helper_rejected", note=reason)
    return assignment


@transaction.atomic
def revoke_assignment(assignment: Assignment, *, actor: User, reason: str) -> Assignment:
    """The dispatcher takes the order back (before work starts on site)."""
    require(may_dispatch(actor))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason."), "required")
    # Lock and check the assignment first, so revoking a finished one says so rather than
    # moving (or failing to move) the order.
    current = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if current.status not in ACTIVE_ASSIGNMENT_STATUSES:
        raise DomainError("not_active", _("This assignment is no longer active."))
    if current.role == AssignmentRole.LEAD:
        transition(assignment.work_order, Transition.REVOKE, actor=actor, note=reason)
    Assignment.objects.filter(pk=assignment.pk).update(
        status=AssignmentStatus.REVOKED, responded_at=timezone.now(), reason=reason[:500]
    )
    if assignment.role == AssignmentRole.HELPER:
        log_event(assignment.work_order, actor=actor, action="helper_revoked", note=reason)
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def reassign(order: WorkOrder, *, actor: User, engineer: User, reason: str) -> Assignment:
    """Revoke the current lead and offer the order to another engineer, in one step."""
    require(may_dispatch(actor))
    # Both checked before anything moves, also when there is no lead to revoke.
    if not (reason or "").strip():
        raise field_error("reason", _("Give a reason."), "required")
    _check_engineer_for_order(engineer, order)
    current = order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES).first()
    if current is not None:
        revoke_assignment(current, actor=actor, reason=reason)
        order.refresh_from_db()
    return dispatch_to_engineer(order, actor=actor, engineer=engineer, note=reason)


@transaction.atomic
def add_helper(order: WorkOrder, *, actor: User, engineer: User) -> Assignment:
    require(may_dispatch(actor))
    if order.status not in OPEN_STATUSES or order.status in (WorkOrderStatus.NEW, WorkOrderStatus.REJECTED):
        raise DomainError("not_dispatched", _("Dispatch the order to a lead engineer before adding helpers."))
    _check_engineer_for_order(engineer, order)
    assignment = _create(order, engineer=engineer, role=AssignmentRole.HELPER, assigned_by=actor)
    log_event(order, actor=actor, action="helper_added", note=str(engineer), payload={"engineer": engineer.pk})
    return assignment


def end_assignments_of_cancelled(moves) -> None:
    """The lifecycle's hook (workorders.hooks.on_moved)."""
    for move in moves:
        if move.verb == Transition.CANCEL:
            end_active_assignments(move.order, actor=move.actor, reason=move.note)


def end_active_assignments(order: WorkOrder, *, actor: User | None, reason: str) -> int:
    """When an order is cancelled, nobody stays assigned to it and it leaves the pool."""
    hooks.released(order, actor)
    return Assignment.objects.filter(work_order=order, status__in=ACTIVE_ASSIGNMENT_STATUSES).update(
        status=AssignmentStatus.REVOKED, responded_at=timezone.now(), reason=reason[:500]
    )
