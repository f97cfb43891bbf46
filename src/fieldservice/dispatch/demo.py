"""Demo data: a handful of auto-dispatch rules over the demo's areas, teams, skills and provider,
and a drawn boundary round Ningbo. Seed it after the order history (the past was dispatched by
hand; the rules act on orders created from now on)."""

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import Organisation, ServiceArea, ServiceTeam, Skill, User
from fieldservice.dispatch.choices import RuleAction, RuleStrategy, RuleTarget
from fieldservice.dispatch.rules import services as rule_services
from fieldservice.workorders.models import FaultCategory

# Roughly the city of Ningbo and its districts and counties (down to Ninghai and Xiangshan, not
# into Taizhou), [longitude, latitude].
NINGBO_RING = [
    [121.05, 29.65],
    [121.25, 29.15],
    [121.80, 29.10],
    [122.05, 29.45],
    [122.05, 30.05],
    [121.55, 30.40],
    [121.05, 30.25],
    [121.05, 29.65],
]


def _areas(*names) -> list[int]:
    return list(ServiceArea.objects.filter(name__in=names).values_list("pk", flat=True))


PROVIDER_RULE = "温州、台州 → 合作服务商"


def seed(*, rng, now) -> None:
    admin = User.objects.filter(roles__role=Role.ADMINISTRATOR, is_active=True).order_by("pk").first()
    if admin is None:
        return
    ningbo = ServiceArea.objects.filter(name="宁波").first()
    if ningbo is not None:
        rule_services.set_area_polygon(ningbo, actor=admin, polygon=NINGBO_RING)
    hydraulics = Skill.objects.filter(code="hydraulics").first()
    hydraulic_faults = list(FaultCategory.objects.filter(skill=hydraulics).values_list("pk", flat=True))
    if hydraulic_faults:
        rule_services.create_rule(
            actor=admin,
            name="紧急液压故障 → 最近的工程师",
            conditions={"priority": ["urgent"], "fault_category": hydraulic_faults},
            strategy=RuleStrategy.NEAREST,
        )
    provider = Organisation.objects.filter(kind=OrganisationKind.PROVIDER, is_active=True).order_by("pk").first()
    south = _areas("温州", "台州")
    if provider is not None and south:
        rule_services.create_rule(
            actor=admin,
            # Before the strategic customers' rule: our engineers do not cover those cities.
            name=PROVIDER_RULE,
            conditions={"area": south},
            target_kind=RuleTarget.PROVIDER,
            target_provider=provider,
            strategy=RuleStrategy.FIXED,
        )
    rule_services.create_rule(
        actor=admin,
        name="战略客户 → 最佳匹配",
        conditions={"customer_tier": ["strategic"]},
        strategy=RuleStrategy.BEST_MATCH,
        weights={"skill": 4, "distance": 2, "load": 2, "last_engineer": 3, "rating": 3},
    )
    team = ServiceTeam.objects.filter(name="苏沪队").first()
    east = _areas("苏州", "无锡", "常州", "上海")
    if team is not None and east:
        rule_services.create_rule(
            actor=admin,
            name="苏沪区域 → 苏沪队轮流",
            conditions={"area": east},
            target_kind=RuleTarget.TEAM,
            target_team=team,
            strategy=RuleStrategy.ROUND_ROBIN,
        )
    rule_services.create_rule(
        actor=admin,
        name="保养 → 抢单池",
        conditions={"service_type": ["maintenance"]},
        action=RuleAction.POOL,
        pool_minutes=120,
    )
    team = ServiceTeam.objects.filter(name="宁波一队").first()
    if team is not None and ningbo is not None:
        # Switched off: shows how a rule is parked without deleting it.
        rule_services.create_rule(
            actor=admin,
            name="宁波 → 宁波一队负荷最少者",
            conditions={"area": [ningbo.pk]},
            target_kind=RuleTarget.TEAM,
            target_team=team,
            strategy=RuleStrategy.LEAST_OPEN,
            is_active=False,
        )
