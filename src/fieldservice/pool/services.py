"""The grab pool (抢单): publishing orders for eligible engineers, the grab itself, the
dispatcher's approval, and the expiry that hands unclaimed orders back to dispatch.

The grab is a compare-and-set `UPDATE ... WHERE status = 'open'` on the offer row that must
change exactly one row: with any number of simultaneous grabbers, one wins and every other one
gets DomainError("taken") saying the order is already taken. Without approval the winner's
assignment is created and accepted in the same transaction, so a grab never leaves an order
half-given.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, Organisation, User
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.outbox import emit, emit_many
from fieldservice.dispatch.assignments.services import provider_of
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole, AssignmentStatus
from fieldservice.dispatch.models import Assignment
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.pool import selectors
from fieldservice.pool.choices import ACTIVE_OFFER_STATUSES, OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.workorders.choices import TO_DISPATCH_STATUSES, Priority, Transition
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.lifecycle import transition
from fieldservice.workorders.services.log import log_event

MAX_MINUTES = 7 * 24 * 60
NOTE_MAX_LENGTH = 300
EXPIRED_TOPIC = "pool.expired"
EXPIRY_BATCH = 500


def _minutes(minutes) -> int:
    if minutes is None:
        return settings.FSM_POOL_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise field_error(
            "minutes", _("Give the minutes in the pool as a whole number from 1 to %(max)d.") % {"max": MAX_MINUTES}
        )
    return minutes


def _lead_exists(order: WorkOrder) -> bool:
    return Assignment.objects.filter(
        work_order=order, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
    ).exists()


def _offer_payload(offer: PoolOffer) -> dict:
    return {
        "offer": offer.pk,
        "work_order": offer.work_order_id,
        "provider": offer.provider_id,
        "expires_at": offer.expires_at.isoformat(),
        "requires_approval": offer.requires_approval,
    }


def publish_by_rule(order: WorkOrder, rule) -> PoolOffer:
    """A dispatch rule whose action is the pool publishes the order on its terms
    (registered with `dispatch.hooks.on_rule_action`)."""
    return publish_to_pool(
        order, actor=None, rule=rule, minutes=rule.pool_minutes, requires_approval=rule.pool_requires_approval
    )


@transaction.atomic
def publish_to_pool(
    order: WorkOrder,
    *,
    actor: User | None = None,
    rule=None,
    minutes: int | None = None,
    requires_approval: bool = False,
    provider: Organisation | None = None,
    note: str = "",
) -> PoolOffer:
    """Put a NEW or REJECTED order without a lead in the pool for `minutes` (default
    FSM_POOL_MINUTES). Without `actor` a dispatch rule publishes it (no permission check)."""
    if actor is not None:
        require(may_dispatch(actor))
    minutes = _minutes(minutes)
    if provider is not None and (provider.kind != OrganisationKind.PROVIDER or not provider.is_active):
        raise field_error("provider", _("Choose an active service provider."), "invalid_choice")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise field_error("note", _("At most %(n)d characters.") % {"n": NOTE_MAX_LENGTH}, "max_length")
    # Lock the order: a dispatch at the same moment either sees the offer or waits for it.
    current = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("fault_category__skill", "site")
        .get(pk=order.pk)
    )
    if current.status not in TO_DISPATCH_STATUSES:
        raise DomainError(
            "not_dispatchable",
            _("Work order %(number)s is %(status)s; only new or rejected orders go to the pool.")
            % {"number": current.number, "status": current.get_status_display()},
        )
    if _lead_exists(current):
        raise DomainError(
            "already_dispatched",
            _("Work order %(number)s already has a lead engineer or provider.") % {"number": current.number},
        )
    now = timezone.now()
    skill = current.fault_category.skill if current.fault_category_id else None
    try:
        with transaction.atomic():
            offer = PoolOffer.objects.create(
                work_order=current,
                provider=provider,
                skill=skill,
                min_level=1,
                requires_approval=bool(requires_approval),
                note=note,
                published_by=actor,
                rule=rule,
                published_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
    except IntegrityError:
        raise DomainError(
            "already_in_pool", _("Work order %(number)s is already in the grab pool.") % {"number": current.number}
        ) from None
    offer.areas.set(selectors.areas_covering(current.site))
    log_event(
        current,
        actor=actor,
        action="pool_published",
        note=note,
        payload={**_offer_payload(offer), "rule": rule.pk if rule is not None else None},
    )
    emit("pool.published", {**_offer_payload(offer), "actor": actor.pk if actor else None})
    return offer


@transaction.atomic
def withdraw_offer(offer: PoolOffer, *, actor: User, reason: str) -> PoolOffer:
    """The dispatcher takes the order out of the pool (also a grab waiting for approval)."""
    require(may_dispatch(actor))
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _("Give a reason."), "required")
    changed = PoolOffer.objects.filter(pk=offer.pk, status__in=ACTIVE_OFFER_STATUSES).update(
        status=OfferStatus.WITHDRAWN, decided_by=actor, decided_at=timezone.now()
    )
    if changed != 1:
        raise _not_active(offer)
    offer.refresh_from_db()
    log_event(offer.work_order, actor=actor, action="pool_withdrawn", note=reason[:500], payload={"offer": offer.pk})
    return offer


def close_offers_of(order: WorkOrder, *, actor: User | None = None) -> int:
    """An order dispatched another way, or cancelled, leaves the pool at once (not at the next
    expiry check), so nobody grabs what is already gone and the pool page stays true."""
    return PoolOffer.objects.filter(work_order=order, status__in=ACTIVE_OFFER_STATUSES).update(
        status=OfferStatus.WITHDRAWN, decided_by=actor, decided_at=timezone.now()
    )


def _not_active(offer: PoolOffer) -> DomainError:
    current = PoolOffer.objects.get(pk=offer.pk)
    return DomainError(
        "not_active",
        _("This pool offer is already %(status)s.") % {"status": current.get_status_display().lower()},
    )


def _taken() -> DomainError:
    return DomainError("taken", _("Sorry, this order has already been taken by another engineer."))


def _check_qualification(offer: PoolOffer, engineer: User) -> None:
    problem = selectors.qualification_problem(engineer, offer)
    if problem == "on_leave":
        raise DomainError("not_eligible", _("You are on leave and cannot take orders."))
    if problem is not None:
        raise DomainError("not_eligible", _("This order needs a skill or service area you do not have."))


def _award(offer: PoolOffer, *, engineer: User, actor: User, now: datetime) -> Assignment:
    """Give the order to the engineer as its accepted lead: what dispatch_to_engineer and then
    accept_assignment do, in one transaction (the engineer asked for the order, so there is
    nothing left to accept). The dispatcher check of dispatch_to_engineer does not apply: the
    pool offer is the dispatcher's (or rule's) decision."""
    order = offer.work_order
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                work_order=order,
                engineer=engineer,
                provider=provider_of(engineer),
                role=AssignmentRole.LEAD,
                rule=offer.rule,
                assigned_by=actor,
                assigned_at=now,
            )
    except IntegrityError:
        raise DomainError(
            "already_dispatched",
            _("Work order %(number)s already has a lead engineer or provider.") % {"number": order.number},
        ) from None
    transition(
        order,
        Transition.DISPATCH,
        actor=actor,
        note=_("Taken from the grab pool"),
        payload={"engineer": engineer.pk, "engineer_name": str(engineer), "pool_offer": offer.pk},
    )
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.ACCEPTED, responded_at=now)
    transition(order, Transition.ACCEPT, actor=engineer)
    assignment.refresh_from_db()
    emit("pool.awarded", {**_offer_payload(offer), "engineer": engineer.pk, "actor": actor.pk})
    return assignment


def _check_order_waits(offer: PoolOffer) -> None:
    order = WorkOrder.objects.get(pk=offer.work_order_id)
    if order.status not in TO_DISPATCH_STATUSES or _lead_exists(order):
        raise DomainError(
            "not_available", _("Work order %(number)s is no longer in the pool.") % {"number": order.number}
        )


@transaction.atomic
def grab(offer: PoolOffer, *, actor: User) -> PoolOffer:
    """The engineer takes the offer. Exactly one grab of an open offer wins; the others get
    DomainError("taken"). Without approval the order is the winner's at once (accepted).

    Another company's offer is refused before anything (a permission). Skill, area and leave
    are checked after the compare-and-set, by the one engineer who won it, and undo it by
    raising: so the many losers of a rush spend no queries on them."""
    require(selectors.company_problem(actor, offer) is None)
    now = timezone.now()
    new_status = OfferStatus.GRABBED if offer.requires_approval else OfferStatus.AWARDED
    changed = PoolOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN, expires_at__gt=now).update(
        status=new_status, grabbed_by=actor, grabbed_at=now
    )
    if changed != 1:
        current = PoolOffer.objects.get(pk=offer.pk)
        if current.grabbed_by_id == actor.pk and current.status in (OfferStatus.GRABBED, OfferStatus.AWARDED):
            raise DomainError("already_grabbed", _("You have already taken this order."))
        if current.status == OfferStatus.OPEN or current.status == OfferStatus.EXPIRED:
            raise DomainError("expired", _("The time to take this order is over; it went back to the dispatchers."))
        if current.status == OfferStatus.WITHDRAWN:
            raise DomainError("withdrawn", _("The dispatcher took this order out of the pool."))
        raise _taken()
    _check_qualification(offer, actor)
    offer.refresh_from_db()
    _check_order_waits(offer)
    if offer.requires_approval:
        log_event(offer.work_order, actor=actor, action="pool_grabbed", payload={"offer": offer.pk})
        emit("pool.grabbed", {**_offer_payload(offer), "engineer": actor.pk, "actor": actor.pk})
        # The grab waits on a dispatcher: tell them, or it waits unseen until the offer expires.
        _notify(offer, "pool.approval_needed", _dispatcher_ids(), engineer=actor, url_name="pool:manage")
    else:
        log_event(offer.work_order, actor=actor, action="pool_grabbed", payload={"offer": offer.pk})
        _award(offer, engineer=actor, actor=actor, now=now)
    return offer


@transaction.atomic
def approve_grab(offer: PoolOffer, *, actor: User) -> PoolOffer:
    """The dispatcher says yes: the grabbing engineer gets the order, accepted."""
    require(may_dispatch(actor))
    now = timezone.now()
    changed = PoolOffer.objects.filter(pk=offer.pk, status=OfferStatus.GRABBED).update(
        status=OfferStatus.AWARDED, decided_by=actor, decided_at=now
    )
    if changed != 1:
        raise _not_active_grab(offer)
    offer.refresh_from_db()
    engineer = offer.grabbed_by
    if (
        not engineer.is_active
        or EngineerProfile.objects.filter(user=engineer, availability=Availability.ON_LEAVE).exists()
    ):
        raise DomainError(
            "not_eligible", _("%(name)s can no longer take orders; decline the grab.") % {"name": engineer}
        )
    _check_order_waits(offer)
    _award(offer, engineer=engineer, actor=actor, now=now)
    return offer


def _not_active_grab(offer: PoolOffer) -> DomainError:
    current = PoolOffer.objects.get(pk=offer.pk)
    return DomainError(
        "not_waiting",
        _("This pool offer is %(status)s, not waiting for approval.")
        % {"status": current.get_status_display().lower()},
    )


@transaction.atomic
def decline_grab(offer: PoolOffer, *, actor: User, reason: str = "") -> PoolOffer:
    """The dispatcher says no: the offer is open again for others until it expires; past its
    expiry it ends as expired and the order waits in the dispatch queue."""
    require(may_dispatch(actor))
    now = timezone.now()
    current = PoolOffer.objects.select_for_update().get(pk=offer.pk)
    if current.status != OfferStatus.GRABBED:
        raise _not_active_grab(offer)
    engineer_id = current.grabbed_by_id
    reopened = current.expires_at > now
    PoolOffer.objects.filter(pk=offer.pk).update(
        status=OfferStatus.OPEN if reopened else OfferStatus.EXPIRED,
        grabbed_by=None,
        grabbed_at=None,
        decided_by=actor,
        decided_at=now,
    )
    offer.refresh_from_db()
    log_event(
        offer.work_order,
        actor=actor,
        action="pool_grab_declined",
        note=(reason or "").strip()[:500],
        payload={"offer": offer.pk, "engineer": engineer_id, "reopened": reopened},
    )
    engineer = User.objects.get(pk=engineer_id)
    _notify(offer, "pool.grab_declined", [engineer_id], engineer=engineer, url_name="pool:list", reason=reason)
    return offer


def _notify(offer: PoolOffer, event: str, recipients: list[int], *, engineer: User, url_name: str, reason=""):
    """A message the notifications consumer delivers to `recipients` (producer-addressed)."""
    order = offer.work_order
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "number": order.number or "",
            "customer": str(order.customer),
            "priority": str(Priority(order.priority).label),
            "engineer": str(engineer),
            "reason": (reason or "").strip()[:300],
        }
    payload = {
        "event": event,
        "recipients": recipients,
        "context": context,
        "url": reverse(url_name),
        "work_order": order.pk,
        "offer": offer.pk,
    }
    emit(event, payload)


# Expiry (the periodic check "pool.expire") -------------------------------------------------------


def _dispatcher_ids() -> list[int]:
    return list(
        User.objects.filter(is_active=True, roles__role=Role.DISPATCHER, organisation__kind=OrganisationKind.OWN)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _expiry_messages(offers: list[PoolOffer]) -> list[tuple[str, dict, str]]:
    recipients = _dispatcher_ids()
    zone = timezone.get_current_timezone()
    messages = []
    # The context is read by people: in the site's language, like the SLA alerts.
    with translation.override(settings.LANGUAGE_CODE):
        priorities = {priority: str(priority.label) for priority in Priority}
        for offer in offers:
            order = offer.work_order
            payload = {
                "event": "pool.expired",
                "recipients": recipients,
                "context": {
                    "number": order.number or "",
                    "customer": str(order.customer),
                    "priority": priorities.get(order.priority, order.priority),
                    "expired_at": offer.expires_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                },
                "url": reverse("dispatch:order", args=[order.pk]),
                "work_order": order.pk,
                "offer": offer.pk,
            }
            messages.append((EXPIRED_TOPIC, payload, f"pool-expired:{offer.pk}"))
    return messages


def _expire_batch(now: datetime) -> tuple[int, int, int]:
    with transaction.atomic():
        # skip_locked: a grab holding an offer's row decides it; the next check sees the rest.
        due = list(
            PoolOffer.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("work_order__customer")
            .filter(status=OfferStatus.OPEN, expires_at__lte=now)
            .order_by("expires_at", "pk")[:EXPIRY_BATCH]
        )
        expired = []
        for offer in due:
            if PoolOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN).update(status=OfferStatus.EXPIRED):
                expired.append(offer)
                log_event(offer.work_order, actor=None, action="pool_expired", payload={"offer": offer.pk})
        return len(due), len(expired), emit_many(_expiry_messages(expired))


def expire_offers(now: datetime | None = None) -> dict:
    """Open offers past their time become EXPIRED and the dispatchers are alerted; the order
    stays NEW/REJECTED in the dispatch queue. Active offers whose order has moved on (dispatched
    directly, cancelled) are withdrawn. Idempotent: the alerts are keyed by offer."""
    now = now or timezone.now()
    counts = {"expired": 0, "alerted": 0, "withdrawn": 0}
    while True:
        seen, expired, alerted = _expire_batch(now)
        counts["expired"] += expired
        counts["alerted"] += alerted
        if seen < EXPIRY_BATCH:
            break
    with transaction.atomic():
        stale = PoolOffer.objects.filter(status__in=ACTIVE_OFFER_STATUSES).exclude(
            work_order__status__in=TO_DISPATCH_STATUSES
        )
        counts["withdrawn"] = stale.update(status=OfferStatus.WITHDRAWN, decided_at=now)
    return counts
