"""Who may see which assignments, and which engineers suit an order."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import Availability
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.permissions import may_view_rules
from fieldservice.dispatch.rules.engine import Snapshot, load_context, suggest
from fieldservice.inventory.models import Part
from fieldservice.inventory.selectors import carried_by, coverage
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import needs_of, work_orders_for


def assignments_for(actor: User) -> QuerySet[Assignment]:
    assignments = Assignment.objects.select_related("work_order", "engineer", "provider")
    return assignments.filter(work_order__in=work_orders_for(actor))


def held_by_provider(organisation_id: int) -> Q:
    """Assignments that are a provider's: given to it, or to one of its engineers."""
    return Q(provider_id=organisation_id) | Q(engineer__organisation_id=organisation_id)


def my_assignments(actor: User) -> QuerySet[Assignment]:
    """The engineer's own offered and accepted assignments."""
    return assignments_for(actor).filter(engineer=actor, status__in=ACTIVE_ASSIGNMENT_STATUSES)


def get_assignment_for(actor: User, pk: int) -> Assignment:
    return get_object_or_404(assignments_for(actor), pk=pk)


def provider_assignments_to_staff(actor: User) -> QuerySet[Assignment]:
    """Orders given to the actor's company that still need one of its engineers."""
    if not can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        return Assignment.objects.none()
    return assignments_for(actor).filter(
        provider_id=actor.organisation_id, engineer__isnull=True, status__in=ACTIVE_ASSIGNMENT_STATUSES
    )


@dataclass
class Candidate:
    engineer: User
    profile: EngineerProfile
    has_skill: bool
    skill_level: int | None
    covers_area: bool
    on_duty: bool
    open_orders: int
    distance_km: float | None
    # Whether his van holds the order's needed parts: "all", "some", "none" ("" when none listed),
    # and what he is short of each (part number, quantity).
    parts: str = ""
    missing: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def is_suitable(self) -> bool:
        return self.has_skill and self.covers_area and self.on_duty


def candidates_for(order: WorkOrder, actor: User, *, limit: int = 20) -> list[Candidate]:
    """Engineers of our company and of the order's customer's provider, ranked as the rules rank
    them (`engine.suggest`): first whom a best-match rule would pick, then the other qualified
    engineers, then the rest, each by the best-match score (skill, distance, load, ...)."""
    return candidates_for_orders([order], actor, limit=limit).get(order.pk, [])


def candidates_for_orders(orders, actor: User, *, limit: int = 20) -> dict[int, list[Candidate]]:
    """`candidates_for` of several orders (a queue page) from one snapshot of the engineers."""
    if not can(actor, Capability.DISPATCH):
        return {}
    snapshot = Snapshot()
    facts = snapshot.facts_for([order.pk for order in orders])
    context = load_context(facts, snapshot.rules)
    covers = parts_covered(facts, list(snapshot.engineers))
    ranked = {
        f.pk: suggest(snapshot, f, context, {pk: c.status for pk, c in covers.get(f.pk, {}).items()})[:limit]
        for f in facts
    }
    wanted = {s.scored.engineer.pk for suggestions in ranked.values() for s in suggestions}
    profiles = {
        p.user_id: p
        for p in EngineerProfile.objects.filter(user_id__in=wanted).select_related("user__organisation", "team")
    }
    skill_of = {f.pk: f.skill_id for f in facts}
    return {
        order_id: [
            _candidate(
                s,
                profiles[s.scored.engineer.pk],
                skill_of[order_id],
                covers.get(order_id, {}).get(s.scored.engineer.pk),
            )
            for s in suggestions
        ]
        for order_id, suggestions in ranked.items()
    }


@dataclass(frozen=True)
class PartsCover:
    """How far an engineer's van covers an order's needed parts: "all", "some" or "none", and
    what he is short of each part, as (part number, quantity)."""

    status: str
    missing: list[tuple[str, Decimal]]


def parts_covered(facts, engineer_ids: list[int]) -> dict[int, dict[int, PartsCover]]:
    """{order pk: {engineer pk: PartsCover}} for those of the orders that list needed parts, in
    three queries whatever the numbers: the needs, every engineer's van stock of those parts
    (`inventory.selectors.carried_by`), the part numbers of what is missing."""
    needs = needs_of([f.pk for f in facts])
    if not needs:
        return {}
    wanted: dict[int, Decimal] = {}
    for by_part in needs.values():
        for part_id, quantity in by_part.items():
            wanted[part_id] = max(wanted.get(part_id, Decimal(0)), quantity)
    carried = carried_by(engineer_ids, wanted)
    numbers = dict(Part.objects.filter(pk__in=list(wanted)).values_list("pk", "part_number"))
    found: dict[int, dict[int, PartsCover]] = {}
    for order_id, by_part in needs.items():
        row = found[order_id] = {}
        for pk in engineer_ids:
            cover = coverage(by_part, carried.get(pk, {}))
            row[pk] = PartsCover(
                cover.status, [(numbers[part], short.normalize()) for part, short in sorted(cover.missing.items())]
            )
    return found


def _candidate(suggestion, profile: EngineerProfile, skill_id: int | None, cover: PartsCover | None) -> Candidate:
    scored = suggestion.scored
    return Candidate(
        parts=cover.status if cover is not None else "",
        missing=cover.missing if cover is not None else [],
        engineer=profile.user,
        profile=profile,
        has_skill=suggestion.has_skill,
        skill_level=scored.engineer.skills.get(skill_id) if skill_id is not None else None,
        covers_area=suggestion.covers_area,
        on_duty=profile.availability == Availability.ON_DUTY,
        open_orders=scored.engineer.open_orders,
        distance_km=round(scored.distance_km, 1) if scored.distance_km is not None else None,
    )


def rules_for(actor: User) -> QuerySet[DispatchRule]:
    """The auto-dispatch rules, in the order they are tried; none for who may not read them."""
    if not may_view_rules(actor):
        return DispatchRule.objects.none()
    return DispatchRule.objects.select_related("target_engineer", "target_team", "target_provider")


def get_rule_for(actor: User, pk: int) -> DispatchRule:
    return get_object_or_404(rules_for(actor), pk=pk)
