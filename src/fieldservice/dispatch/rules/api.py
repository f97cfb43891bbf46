"""HTTP API of the auto-dispatch rules (mounted beside the assignments router under /api/v1/):
list, create, change, move, delete; the rule tester for one order; an area's boundary."""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Body, Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.models import Organisation, ServiceArea, ServiceTeam, User
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.dispatch.assignments import selectors
from fieldservice.dispatch.models import DispatchRule
from fieldservice.dispatch.permissions import may_manage_rules, may_view_rules
from fieldservice.dispatch.rules import services
from fieldservice.dispatch.rules.autodispatch import explain
from fieldservice.workorders.selectors import get_work_order_for

# Both tags, as the document has always listed the rules: under the app and under their own topic.
router = Router(tags=["dispatch", "dispatch rules"])
# Any JSON object: every key reaches the service, which names an unknown one in its 422.
AnyBody = Annotated[dict, Body()]


class RuleOut(Schema):
    id: int
    position: int
    name: str
    is_active: bool
    conditions: dict
    action: str
    target_kind: str
    target_engineer: int | None = Field(validation_alias="target_engineer_id")
    target_team: int | None = Field(validation_alias="target_team_id")
    target_provider: int | None = Field(validation_alias="target_provider_id")
    strategy: str
    weights: dict
    pool_minutes: int | None
    pool_requires_approval: bool
    matched_count: int
    updated_at: datetime


class RuleMoveIn(StrictSchema):
    direction: str


class PolygonIn(StrictSchema):
    polygon: list


class CandidateScoreOut(Schema):
    engineer: int
    name: str
    factors: dict
    distance_km: float | None
    open_orders: int
    total: float
    chosen: bool


class RuleTestOut(Schema):
    work_order: int
    waiting: bool
    rule: int | None
    rule_name: str | None
    matching_rules: list[int]
    action: str | None
    engineer: int | None
    provider: int | None
    reason: str
    candidates: list[CandidateScoreOut]


TARGETS = {"target_engineer": User, "target_team": ServiceTeam, "target_provider": Organisation}


def _fields(payload: dict) -> dict:
    # Every key passes through to the service, which names an unknown field in its 422.
    fields = dict(payload)
    for name, model in TARGETS.items():
        value = fields.get(name)
        if value is None:
            continue
        obj = model.objects.filter(pk=value).first() if isinstance(value, int) and not isinstance(value, bool) else None
        if obj is None:
            raise field_error(name, _("No %(field)s with id %(id)s.") % {"field": name, "id": value}, "does_not_exist")
        fields[name] = obj
    return fields


def _rule(request, pk: int) -> DispatchRule:
    require(may_view_rules(request.user))
    return selectors.get_rule_for(request.user, pk)


@router.get("/dispatch-rules", response=list[RuleOut])
@paginate(PageNumberPagination, page_size=50)
def list_rules(request):
    """The rules in the order they are tried."""
    require(may_view_rules(request.user))
    return DispatchRule.objects.order_by("position", "pk")


@router.post("/dispatch-rules", response={201: RuleOut})
@idempotent
def create_rule(request, payload: AnyBody):
    require(may_manage_rules(request.user))
    return 201, services.create_rule(actor=request.user, **_fields(payload))


@router.get("/dispatch-rules/{int:rule_id}", response=RuleOut)
def get_rule(request, rule_id: Id):
    return _rule(request, rule_id)


@router.patch("/dispatch-rules/{int:rule_id}", response=RuleOut)
def update_rule(request, rule_id: Id, payload: AnyBody):
    rule = _rule(request, rule_id)
    return services.update_rule(rule, actor=request.user, **_fields(payload))


@router.post("/dispatch-rules/{int:rule_id}/move", response=RuleOut)
def move_rule(request, rule_id: Id, payload: RuleMoveIn):
    rule = _rule(request, rule_id)
    services.move_rule(rule, actor=request.user, direction=payload.direction)
    return DispatchRule.objects.get(pk=rule.pk)


@router.delete("/dispatch-rules/{int:rule_id}", response={204: None})
def delete_rule(request, rule_id: Id):
    rule = _rule(request, rule_id)
    services.delete_rule(rule, actor=request.user)
    return 204, None


@router.get("/work-orders/{int:order_id}/rule-test", response=RuleTestOut)
def test_rules(request, order_id: Id):
    """What the rules would do with the order now; changes nothing."""
    order = get_work_order_for(request.user, order_id)
    require(may_view_rules(request.user))
    result = explain(order)
    decision = result["decision"]
    rule = decision.rule
    action = None
    if rule is not None:
        action = "pool" if decision.pool else ("assign" if decision.engineer_id or decision.provider_id else "none")
    return {
        "work_order": order.pk,
        "waiting": result["waiting"],
        "rule": rule.pk if rule else None,
        "rule_name": rule.name if rule else None,
        "matching_rules": [r.pk for r, matched in result["rules"] if matched],
        "action": action,
        "engineer": decision.engineer_id,
        "provider": decision.provider_id,
        "reason": decision.reason,
        "candidates": [
            {
                "engineer": c.engineer.pk,
                "name": c.engineer.name,
                "factors": c.factors,
                "distance_km": round(c.distance_km, 1) if c.distance_km is not None else None,
                "open_orders": c.engineer.open_orders,
                "total": c.total,
                "chosen": c.chosen,
            }
            for c in decision.candidates
        ],
    }


@router.put("/service-areas/{int:area_id}/polygon", response=dict)
def set_area_polygon(request, area_id: Id, payload: PolygonIn):
    require(may_view_rules(request.user))
    area = get_object_or_404(ServiceArea, pk=area_id)
    area = services.set_area_polygon(area, actor=request.user, polygon=payload.polygon)
    return {"id": area.pk, "name": area.name, "polygon": area.polygon}
