"""The auto-dispatch decision, in memory: load the rules, the engineers and the orders' facts once
(a `Snapshot`), then decide each order without a query. `autodispatch` writes the decisions;
the rule tester shows them. Nothing here writes.

Who qualifies for an order: an active engineer, not on leave, working for our company or for the
provider that serves the customer, holding the fault category's skill (any level) and covering
the site's area (when the order has a site we can place). A fixed engineer target skips the skill
and area test: the administrator named that person on purpose.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, EngineerSkill, Organisation, ServiceArea
from fieldservice.core.db import any_of
from fieldservice.core.geo import EARTH_RADIUS_KM
from fieldservice.dispatch.choices import (
    ACTIVE_ASSIGNMENT_STATUSES,
    AssignmentRole,
    RuleAction,
    RuleStrategy,
    RuleTarget,
)
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.dispatch.rules.conditions import AreaShape, OrderFacts, compile_conditions
from fieldservice.workorders.choices import OPEN_STATUSES, WorkOrderStatus
from fieldservice.workorders.models import FaultCategory, WorkOrder

FACTORS = ("skill", "distance", "load", "last_engineer", "rating")
DEFAULT_WEIGHTS = {"skill": 3, "distance": 3, "load": 2, "last_engineer": 1, "rating": 1}
# Beyond these the factor is 0: a 200 km drive or ten open orders are as bad as it gets.
DISTANCE_SCALE_KM = 200.0
LOAD_SCALE = 10
NEUTRAL = 0.5
# The suggested engineers put one who carries the order's needed parts a little ahead of an equal
# who does not (a tie-break more than a factor: the rules' weights stay the administrator's).
CARRIER_BONUS = {"all": 0.05, "some": 0.02}


def _radians(lat, lng) -> tuple | None:
    if lat is None or lng is None:
        return None
    phi = math.radians(lat)
    return (phi, math.radians(lng), math.cos(phi))


def factor_labels() -> dict[str, str]:
    return {
        "skill": _("Skill level"),
        "distance": _("Distance"),
        "load": _("Current load"),
        "last_engineer": _("Served this machine last"),
        "rating": _("Rating"),
    }


def effective_weights(weights: dict | None) -> dict[str, float]:
    merged = {**DEFAULT_WEIGHTS, **{k: v for k, v in (weights or {}).items() if k in FACTORS}}
    return {k: float(merged[k]) for k in FACTORS}


@dataclass
class Engineer:
    pk: int
    name: str
    organisation_id: int | None
    own: bool
    team_id: int | None
    on_duty: bool
    skills: dict
    areas: frozenset
    latitude: float | None
    longitude: float | None
    open_orders: int = 0
    rating: float | None = None
    radians: tuple | None = None


@dataclass
class CompiledRule:
    rule: DispatchRule
    conditions: dict
    weights: dict

    @property
    def pk(self) -> int:
        return self.rule.pk


@dataclass
class Scored:
    """One candidate as the rule saw it: the factors in [0, 1] and the weighted total."""

    engineer: Engineer
    factors: dict
    distance_km: float | None
    total: float
    chosen: bool = False
    # Whether his van holds the order's needed parts ("all"/"some"/"none", "" when none listed)
    # and the (part number, quantity) he is short of: filled by the tester, not the rule pass.
    parts: str = ""
    missing: list = field(default_factory=list)


@dataclass
class Decision:
    facts: OrderFacts
    rule: DispatchRule | None = None
    engineer_id: int | None = None
    provider_id: int | None = None
    pool: bool = False
    reason: str = ""
    candidates: list[Scored] = field(default_factory=list)


MULTI_FIELDS = {"fault_category": "fault_categories", "area": "areas"}
TEXT_FIELDS = ("province", "city", "district")


class RuleIndex:
    """First-match over many rules without testing them one by one: for every condition field,
    a bitmask of the rules each value satisfies (plus the rules that ignore the field); an
    order's matching rules are the AND of its fields' masks, the first is the lowest bit. It
    gives the same answer as `rules.conditions_match` tried in order (the bench checks this)."""

    def __init__(self, rules: list[CompiledRule]):
        self.all = (1 << len(rules)) - 1
        fields = sorted({name for c in rules for name in c.conditions})
        self.fields = []
        for name in fields:
            free, by_value = 0, defaultdict(int)
            for i, compiled in enumerate(rules):
                values = compiled.conditions.get(name)
                if values is None:
                    free |= 1 << i
                else:
                    for value in values:
                        by_value[value] |= 1 << i
            self.fields.append((name, free, dict(by_value), {}))

    def first(self, facts: OrderFacts) -> int | None:
        mask = self.all
        for name, free, by_value, text_cache in self.fields:
            allowed = free
            if name in MULTI_FIELDS:
                for value in getattr(facts, MULTI_FIELDS[name]):
                    allowed |= by_value.get(value, 0)
            elif name in TEXT_FIELDS:
                own = getattr(facts, name)
                found = text_cache.get(own)
                if found is None:
                    found = 0
                    if own:
                        for value, bits in by_value.items():
                            if value in own:
                                found |= bits
                    text_cache[own] = found
                allowed |= found
            else:
                value = facts.product_model_id if name == "product_model" else getattr(facts, name)
                allowed |= by_value.get(value, 0)
            mask &= allowed
            if not mask:
                return None
        return (mask & -mask).bit_length() - 1 if mask else None


class Snapshot:
    """Rules, areas and engineers as of now, loaded in a handful of queries."""

    def __init__(self, rules=None):
        rules = list(
            rules if rules is not None else DispatchRule.objects.filter(is_active=True).order_by("position", "pk")
        )
        self.rules = [CompiledRule(r, compile_conditions(r.conditions), effective_weights(r.weights)) for r in rules]
        self.index = RuleIndex(self.rules)
        self.areas = [
            AreaShape.of(a) for a in ServiceArea.objects.only("pk", "province", "city", "district", "polygon")
        ]
        self.active_providers = set(
            Organisation.objects.filter(kind=OrganisationKind.PROVIDER, is_active=True).values_list("pk", flat=True)
        )
        self.categories = {}
        parents = {}
        for pk, parent_id, skill_id in FaultCategory.objects.values_list("pk", "parent_id", "skill_id"):
            parents[pk] = parent_id
            self.categories[pk] = skill_id
        self.ancestors = {}
        for pk in parents:
            chain, node = [], pk
            while node is not None and node not in chain:
                chain.append(node)
                node = parents.get(node)
            self.ancestors[pk] = frozenset(chain)
        self._load_engineers()
        self._site_areas: dict = {}
        self._statics: dict = {}
        self._groups: dict = {}

    def _load_engineers(self) -> None:
        rows = (
            EngineerProfile.objects.filter(
                user__is_active=True,
                user__roles__role=Role.ENGINEER,
                user__organisation__kind__in=[OrganisationKind.OWN, OrganisationKind.PROVIDER],
            )
            .exclude(availability=Availability.ON_LEAVE)
            .values_list(
                "pk",
                "user_id",
                "user__display_name",
                "user__first_name",
                "user__last_name",
                "user__username",
                "user__organisation_id",
                "user__organisation__kind",
                "team_id",
                "availability",
                "home_latitude",
                "home_longitude",
            )
            .distinct()
        )
        by_profile = {}
        self.engineers: dict[int, Engineer] = {}
        to_radians = _radians
        for pk, user_id, display, first, last, username, org, kind, team, availability, lat, lng in rows:
            engineer = Engineer(
                pk=user_id,
                # As User.__str__ puts it.
                name=display or f"{first} {last}".strip() or username,
                organisation_id=org,
                own=kind == OrganisationKind.OWN,
                team_id=team,
                on_duty=availability == Availability.ON_DUTY,
                skills={},
                areas=frozenset(),
                latitude=float(lat) if lat is not None else None,
                longitude=float(lng) if lng is not None else None,
            )
            engineer.radians = to_radians(engineer.latitude, engineer.longitude)
            by_profile[pk] = engineer
            self.engineers[user_id] = engineer
        areas = defaultdict(set)
        through = EngineerProfile.areas.through
        for profile_id, area_id in through.objects.filter(engineerprofile_id__in=any_of(by_profile)).values_list(
            "engineerprofile_id", "servicearea_id"
        ):
            areas[profile_id].add(area_id)
        for profile_id, skill_id, level in EngineerSkill.objects.filter(engineer_id__in=any_of(by_profile)).values_list(
            "engineer_id", "skill_id", "level"
        ):
            by_profile[profile_id].skills[skill_id] = level
        for profile_id, engineer in by_profile.items():
            engineer.areas = frozenset(areas.get(profile_id, ()))
        for engineer_id, count in (
            Assignment.objects.filter(
                engineer_id__in=any_of(self.engineers),
                status__in=ACTIVE_ASSIGNMENT_STATUSES,
                work_order__status__in=OPEN_STATUSES,
            )
            .values("engineer_id")
            .annotate(n=Count("pk"))
            .values_list("engineer_id", "n")
        ):
            self.engineers[engineer_id].open_orders = count
        # Ratings: the customers' overall score of the orders the engineer led.
        for engineer_id, average in (
            Assignment.objects.filter(
                engineer_id__in=any_of(self.engineers),
                role=AssignmentRole.LEAD,
                status="accepted",
                work_order__evaluation__isnull=False,
            )
            .values("engineer_id")
            .annotate(avg=Avg("work_order__evaluation__overall"))
            .values_list("engineer_id", "avg")
        ):
            self.engineers[engineer_id].rating = float(average)
        self.by_skill = defaultdict(set)
        self.by_area = defaultdict(set)
        self.by_team = defaultdict(set)
        self.by_org = defaultdict(set)
        self.own = set()
        for engineer in self.engineers.values():
            for skill_id in engineer.skills:
                self.by_skill[skill_id].add(engineer.pk)
            for area_id in engineer.areas:
                self.by_area[area_id].add(engineer.pk)
            if engineer.team_id:
                self.by_team[engineer.team_id].add(engineer.pk)
            if engineer.own:
                self.own.add(engineer.pk)
            elif engineer.organisation_id:
                self.by_org[engineer.organisation_id].add(engineer.pk)

    # Orders

    def site_areas(self, site_id, lat, lng, province, city, district) -> frozenset:
        if site_id is None:
            return frozenset()
        found = self._site_areas.get(site_id)
        if found is None:
            found = frozenset(a.pk for a in self.areas if a.contains(lat, lng, province, city, district))
            self._site_areas[site_id] = found
        return found

    def facts_for(self, orders) -> list[OrderFacts]:
        """The facts of the given orders (a queryset or ids), in one query."""
        return self.facts_of(self.fact_rows(orders))

    @staticmethod
    def fact_rows(orders) -> list[tuple]:
        """The query behind `facts_for`: one raw row an order, by pk. A batch reads them all at
        once and builds the facts chunk by chunk, while the server writes the last chunk."""
        queryset = orders if hasattr(orders, "values_list") else WorkOrder.objects.filter(pk__in=any_of(orders))
        return list(
            queryset.values_list(
                "pk",
                "number",
                "status",
                "customer_id",
                "customer__service_provider_id",
                "customer__tier",
                "service_type",
                "priority",
                "fault_category_id",
                "equipment_id",
                "equipment__product_model_id",
                "equipment__product_model__product_line",
                "site_id",
                "site__latitude",
                "site__longitude",
                "site__province",
                "site__city",
                "site__district",
                "contract__level",
                "request__channel",
            ).order_by("pk")
        )

    def facts_of(self, rows) -> list[OrderFacts]:
        facts = []
        for row in rows:
            (pk, number, status, customer, provider, tier, service_type, priority, category, equipment, model,
             line, site, lat, lng, province, city, district, level, channel) = row  # fmt: skip
            lat = float(lat) if lat is not None else None
            lng = float(lng) if lng is not None else None
            facts.append(
                OrderFacts(
                    pk=pk,
                    number=number or "",
                    status=status,
                    customer_id=customer,
                    provider_id=provider,
                    service_type=service_type,
                    priority=priority,
                    fault_category_id=category,
                    fault_categories=self.ancestors.get(category, frozenset()),
                    skill_id=self.categories.get(category),
                    product_line=line or "",
                    product_model_id=model,
                    equipment_id=equipment,
                    site_id=site,
                    latitude=lat,
                    longitude=lng,
                    province=province or "",
                    city=city or "",
                    district=district or "",
                    customer_tier=tier or "",
                    contract_level=level or "",
                    channel=channel or "",
                    areas=self.site_areas(site, lat, lng, province, city, district),
                    radians=_radians(lat, lng),
                )
            )
        return facts

    def first_rule(self, facts: OrderFacts) -> CompiledRule | None:
        index = self.index.first(facts)
        return None if index is None else self.rules[index]

    # Candidates

    def qualified(self, compiled: CompiledRule, facts: OrderFacts) -> list[Engineer]:
        """Engineers the rule's target allows who qualify for the order, by pk (cached: many
        orders share a skill, an area set and a provider)."""
        rule = compiled.rule
        placeable = facts.site_id is not None and (
            facts.latitude is not None or facts.province or facts.city or facts.district
        )
        key = (rule.pk, facts.skill_id, facts.areas if placeable else None, facts.provider_id)
        found = self._groups.get(key)
        if found is not None:
            return found
        if rule.target_kind == RuleTarget.TEAM:
            pool = set(self.by_team.get(rule.target_team_id, ()))
            pool &= self.own | self.by_org.get(facts.provider_id, set())
        else:
            pool = self.own | self.by_org.get(facts.provider_id, set())
        if facts.skill_id is not None:
            pool &= self.by_skill.get(facts.skill_id, set())
        if placeable:
            covering = set()
            for area_id in facts.areas:
                covering |= self.by_area.get(area_id, set())
            pool &= covering
        found = [self.engineers[pk] for pk in sorted(pool)]
        self._groups[key] = found
        return found

    def distance(self, engineer: Engineer, facts: OrderFacts) -> float | None:
        """Kilometres between the site and the engineer's home base: the equirectangular
        approximation, within 1 % of the great circle up to a few hundred km (plenty to rank
        engineers) and cheap enough for the ~100k distances of a batch. `best` inlines it."""
        site, home = facts.radians, engineer.radians
        if site is None or home is None:
            return None
        x = (home[1] - site[1]) * site[2]
        y = home[0] - site[0]
        return EARTH_RADIUS_KM * math.sqrt(x * x + y * y)

    def score(self, engineer: Engineer, facts: OrderFacts, weights: dict, last_engineer_id) -> Scored:
        """One candidate's factors in [0, 1] and their weighted mean, for the tester."""
        distance = self.distance(engineer, facts)
        factors = {
            **self.static_factors(engineer, facts),
            "distance": NEUTRAL if distance is None else 1 - min(distance, DISTANCE_SCALE_KM) / DISTANCE_SCALE_KM,
            "load": 1 - min(engineer.open_orders, LOAD_SCALE) / LOAD_SCALE,
            "last_engineer": 1.0 if last_engineer_id == engineer.pk else 0.0,
        }
        factors = {name: factors[name] for name in FACTORS}
        weight_sum = sum(weights.values()) or 1.0
        total = sum(weights[name] * value for name, value in factors.items()) / weight_sum
        return Scored(engineer, factors, distance, round(total, 4))

    def best(self, compiled: CompiledRule, engineers: list[Engineer], facts: OrderFacts, last_engineer_id) -> Engineer:
        """The best-match pick: the highest weighted sum of the factors `score` shows, the lower
        pk among equals (`engineers` come sorted by pk). Written as a tight loop with the parts
        that do not change per order (skill, rating) cached, since a batch weighs ~100k
        candidates; the tester picks through here too, so both always agree."""
        weights = compiled.weights
        key = (compiled.pk, facts.skill_id)
        statics = self._statics.get(key)
        if statics is None:
            statics = self._statics[key] = {}
        w_dist, w_load, w_last = weights["distance"], weights["load"], weights["last_engineer"]
        site = facts.radians
        sqrt = math.sqrt
        best, best_total = None, None
        for engineer in engineers:
            static = statics.get(engineer.pk)
            if static is None:
                factors = self.static_factors(engineer, facts)
                static = statics[engineer.pk] = (
                    weights["skill"] * factors["skill"] + weights["rating"] * factors["rating"]
                )
            home = engineer.radians
            if site is None or home is None:
                near = NEUTRAL
            else:
                x = (home[1] - site[1]) * site[2]
                y = home[0] - site[0]
                distance = EARTH_RADIUS_KM * sqrt(x * x + y * y)
                near = 1 - distance / DISTANCE_SCALE_KM if distance < DISTANCE_SCALE_KM else 0.0
            load = engineer.open_orders
            idle = 1 - load / LOAD_SCALE if load < LOAD_SCALE else 0.0
            total = static + w_dist * near + w_load * idle + (w_last if engineer.pk == last_engineer_id else 0.0)
            if best_total is None or total > best_total:
                best, best_total = engineer, total
        return best

    def static_factors(self, engineer: Engineer, facts: OrderFacts) -> dict:
        level = engineer.skills.get(facts.skill_id) if facts.skill_id is not None else None
        return {
            "skill": level / 5 if level is not None else (1.0 if facts.skill_id is None else 0.0),
            "rating": NEUTRAL if engineer.rating is None else (engineer.rating - 1) / 4,
        }


@dataclass
class Context:
    """What changes while a batch is decided, and what the orders' history says."""

    cursors: dict = field(default_factory=dict)  # rule pk -> last engineer (round robin)
    excluded: dict = field(default_factory=dict)  # order pk -> engineers that gave it back or help on it
    # order pk -> providers that gave it back: kept apart, a user's pk may equal a company's.
    excluded_providers: dict = field(default_factory=dict)
    last_engineers: dict = field(default_factory=dict)  # equipment pk -> engineer who served it last


def load_context(facts: list[OrderFacts], rules: list[CompiledRule]) -> Context:
    return context_for([f.pk for f in facts], {f.equipment_id for f in facts if f.equipment_id}, rules)


def context_for(order_ids: list[int], equipment_ids: set[int], rules: list[CompiledRule]) -> Context:
    """`load_context` from the orders' and machines' ids (a batch has them before the facts)."""
    context = Context(cursors={c.pk: c.rule.last_engineer_id for c in rules})
    if order_ids:
        # Who gave the order back, and helpers already on it (one engineer, one active role).
        for order_id, engineer_id, provider_id in Assignment.objects.filter(
            Q(role=AssignmentRole.LEAD, status__in=["rejected", "revoked"])
            | Q(role=AssignmentRole.HELPER, status__in=ACTIVE_ASSIGNMENT_STATUSES),
            work_order_id__in=any_of(order_ids),
        ).values_list("work_order_id", "engineer_id", "provider_id"):
            if engineer_id:
                context.excluded.setdefault(order_id, set()).add(engineer_id)
            if provider_id:
                context.excluded_providers.setdefault(order_id, set()).add(provider_id)
    if equipment_ids:
        rows = (
            Assignment.objects.filter(
                work_order__equipment_id__in=any_of(equipment_ids),
                work_order__status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED],
                role=AssignmentRole.LEAD,
                status="accepted",
                engineer__isnull=False,
            )
            .order_by("work_order__equipment_id", "-work_order__completed_at", "-work_order_id")
            .values_list("work_order__equipment_id", "engineer_id")
        )
        for equipment_id, engineer_id in rows:
            context.last_engineers.setdefault(equipment_id, engineer_id)
    return context


def _give(decision: Decision, engineer: Engineer) -> None:
    """A provider's engineer takes the order for the provider: the batch writes `provider_id`
    as decided here, as `services.dispatch_by_rule` does for one order."""
    decision.engineer_id = engineer.pk
    decision.provider_id = None if engineer.own else engineer.organisation_id


def decide(
    snapshot: Snapshot, facts: OrderFacts, context: Context, *, explain: bool = False, compiled=False
) -> Decision:
    """The first matching rule and whom it picks. With `explain`, every qualified candidate is
    scored (the tester); otherwise only what the strategy needs."""
    if compiled is False:
        compiled = snapshot.first_rule(facts)
    if compiled is None:
        return Decision(facts, reason=_("No rule matches; the order waits in the dispatch queue."))
    rule = compiled.rule
    decision = Decision(facts, rule=rule)
    excluded = context.excluded.get(facts.pk, set())
    if rule.action == RuleAction.POOL:
        decision.pool = True
        return decision
    if rule.target_kind == RuleTarget.PROVIDER:
        if rule.target_provider_id not in snapshot.active_providers:
            decision.reason = _("The rule's service provider is not active.")
        elif rule.target_provider_id in context.excluded_providers.get(facts.pk, ()):
            decision.reason = _("The rule's service provider already gave this order back.")
        else:
            decision.provider_id = rule.target_provider_id
        return decision
    if rule.target_kind == RuleTarget.ENGINEER:
        engineer = snapshot.engineers.get(rule.target_engineer_id)
        if engineer is None:
            decision.reason = _("The rule's engineer is not an active engineer or is on leave.")
        elif not (engineer.own or engineer.organisation_id == facts.provider_id):
            decision.reason = _("The rule's engineer works for a company that does not serve this customer.")
        elif engineer.pk in excluded:
            decision.reason = _("The rule's engineer gave this order back or is already on it.")
        else:
            _give(decision, engineer)
            if explain:
                scored = snapshot.score(
                    engineer, facts, compiled.weights, context.last_engineers.get(facts.equipment_id)
                )
                scored.chosen = True
                decision.candidates = [scored]
        return decision
    engineers = snapshot.qualified(compiled, facts)
    if excluded:
        engineers = [e for e in engineers if e.pk not in excluded]
    if rule.strategy == RuleStrategy.NEAREST:
        engineers = [e for e in engineers if e.on_duty]
    last = context.last_engineers.get(facts.equipment_id)
    scored = [snapshot.score(e, facts, compiled.weights, last) for e in engineers] if explain else []
    if not engineers:
        decision.reason = (
            _("No qualified engineer on duty.")
            if rule.strategy == RuleStrategy.NEAREST
            else _("No qualified engineer: nobody in the rule's target has the skill and covers the area.")
        )
        decision.candidates = scored
        return decision
    if rule.strategy == RuleStrategy.ROUND_ROBIN:
        cursor = context.cursors.get(rule.pk)
        chosen = next((e for e in engineers if cursor is None or e.pk > cursor), engineers[0])
        context.cursors[rule.pk] = chosen.pk
    elif rule.strategy == RuleStrategy.LEAST_OPEN:
        chosen = min(engineers, key=lambda e: (e.open_orders, e.pk))
    elif rule.strategy == RuleStrategy.NEAREST:
        placed = [(snapshot.distance(e, facts), e.pk, e) for e in engineers]
        known = [p for p in placed if p[0] is not None]
        chosen = min(known)[2] if known else engineers[0]
    else:
        chosen = snapshot.best(compiled, engineers, facts, last)
    _give(decision, chosen)
    for item in scored:
        item.chosen = item.engineer.pk == chosen.pk
    decision.candidates = sorted(scored, key=lambda s: (not s.chosen, -s.total, s.engineer.pk))
    return decision


@dataclass
class Suggestion:
    scored: Scored
    qualified: bool  # has the skill, covers the area and did not give the order back
    has_skill: bool
    covers_area: bool


def suggest(
    snapshot: Snapshot, facts: OrderFacts, context: Context, carries: dict[int, str] | None = None
) -> list[Suggestion]:
    """Everyone who may take the order (our engineers and those of the customer's provider),
    ranked by the best-match score: first the engineer a best-match rule would pick, then the
    other qualified engineers (on duty first), then the rest, each best first. The weights are those of the
    best-match rule that catches the order, else the defaults; one scoring function (`score`,
    `best`) serves the order page and the rules, so they cannot disagree. `carries` (engineer pk ->
    "all" / "some" / "none" of the order's needed parts) moves carriers a little ahead of equals."""
    carries = carries or {}
    compiled = snapshot.first_rule(facts)
    weights = (
        compiled.weights
        if compiled is not None and compiled.rule.strategy == RuleStrategy.BEST_MATCH
        else effective_weights(None)
    )
    anyone = CompiledRule(DispatchRule(target_kind=RuleTarget.ANYONE, strategy=RuleStrategy.BEST_MATCH), {}, weights)
    excluded = context.excluded.get(facts.pk, set())
    qualified = [e for e in snapshot.qualified(anyone, facts) if e.pk not in excluded]
    qualified_ids = {e.pk for e in qualified}
    last = context.last_engineers.get(facts.equipment_id)
    pick = snapshot.best(anyone, qualified, facts, last) if qualified else None
    placeable = facts.site_id is not None and (
        facts.latitude is not None or facts.province or facts.city or facts.district
    )
    found = []
    for pk in sorted(snapshot.own | snapshot.by_org.get(facts.provider_id, set())):
        engineer = snapshot.engineers[pk]
        found.append(
            Suggestion(
                scored=snapshot.score(engineer, facts, weights, last),
                qualified=pk in qualified_ids,
                has_skill=facts.skill_id is None or facts.skill_id in engineer.skills,
                covers_area=not placeable or bool(engineer.areas & facts.areas),
            )
        )
    # After the pick, those on duty before those who are not: a dispatcher looks for who can go now.
    found.sort(
        key=lambda s: (
            s.scored.engineer is not pick,
            not s.qualified,
            not s.scored.engineer.on_duty,
            -(s.scored.total + CARRIER_BONUS.get(carries.get(s.scored.engineer.pk, ""), 0.0)),
            s.scored.engineer.pk,
        )
    )
    if pick is not None:
        found[0].scored.chosen = True
    return found
