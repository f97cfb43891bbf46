"""HTTP API of the rules, under /api/v1/iot/: alarm codes and threshold rules (the
administrator's: list, create, change, deactivate) and the machine alarms the caller may see."""

import datetime as dt

from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.iot.models import AlarmMapping, ThresholdRule
from fieldservice.iot.permissions import may_manage_devices
from fieldservice.iot.selectors import alarms as selectors
from fieldservice.iot.services import configuration as services

router = Router()


class AlarmCodeOut(Schema):
    id: int
    code: str
    description: str
    fault_category: int | None
    priority: str
    opens_order: bool
    notify_customer: bool
    is_active: bool

    @staticmethod
    def resolve_fault_category(obj) -> int | None:
        return obj.fault_category_id


class AlarmCodeIn(StrictSchema):
    __model__ = AlarmMapping

    code: str
    description: str = ""
    fault_category: Id | None = None
    priority: str = "high"
    opens_order: bool = True
    notify_customer: bool = False
    is_active: bool = True


class AlarmCodePatch(StrictSchema):
    __model__ = AlarmMapping

    code: str | None = None
    description: str | None = None
    fault_category: Id | None = None
    priority: str | None = None
    opens_order: bool | None = None
    notify_customer: bool | None = None
    is_active: bool | None = None


class ThresholdRuleOut(Schema):
    id: int
    name: str
    metric: str
    kind: str
    value: float | None
    window_minutes: int
    product_model: int | None
    fault_category: int | None
    priority: str
    notify_customer: bool
    is_active: bool

    @staticmethod
    def resolve_product_model(obj) -> int | None:
        return obj.product_model_id

    @staticmethod
    def resolve_fault_category(obj) -> int | None:
        return obj.fault_category_id


class ThresholdRuleIn(StrictSchema):
    __model__ = ThresholdRule

    name: str
    metric: str
    kind: str
    value: float | None = None
    window_minutes: Int32 = 10
    product_model: Id | None = None
    fault_category: Id | None = None
    priority: str = "normal"
    notify_customer: bool = False
    is_active: bool = True


class ThresholdRulePatch(StrictSchema):
    __model__ = ThresholdRule

    name: str | None = None
    metric: str | None = None
    kind: str | None = None
    value: float | None = None
    window_minutes: Int32 | None = None
    product_model: Id | None = None
    fault_category: Id | None = None
    priority: str | None = None
    notify_customer: bool | None = None
    is_active: bool | None = None


class MachineAlarmOut(Schema):
    id: int
    equipment: int
    serial_number: str
    customer: int
    code: str
    severity: str
    message: str
    raised_at: dt.datetime
    cleared_at: dt.datetime | None
    repeats: int
    work_order: int | None
    work_order_number: str | None

    @staticmethod
    def resolve_equipment(obj) -> int:
        return obj.equipment_id

    @staticmethod
    def resolve_serial_number(obj) -> str:
        return obj.equipment.serial_number

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.equipment.customer_id

    @staticmethod
    def resolve_work_order(obj) -> int | None:
        return obj.work_order_id

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number if obj.work_order_id else None


@router.get("/alarm-codes", response=list[AlarmCodeOut])
@paginate(PageNumberPagination, page_size=50)
def list_alarm_codes(request):
    require(may_manage_devices(request.user))
    return selectors.alarm_mappings_for(request.user).order_by("code")


@router.get("/alarm-codes/{int:mapping_id}", response=AlarmCodeOut)
def get_alarm_code(request, mapping_id: Id):
    return selectors.get_alarm_mapping_for(request.user, mapping_id)


@router.post("/alarm-codes", response={201: AlarmCodeOut})
@idempotent
def create_alarm_code(request, payload: AlarmCodeIn):
    return 201, services.create_alarm_mapping(actor=request.user, **payload.model_dump())


@router.patch("/alarm-codes/{int:mapping_id}", response=AlarmCodeOut)
def update_alarm_code(request, mapping_id: Id, payload: AlarmCodePatch):
    mapping = selectors.get_alarm_mapping_for(request.user, mapping_id)
    return services.update_alarm_mapping(mapping, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.post("/alarm-codes/{int:mapping_id}/deactivate", response=AlarmCodeOut)
def deactivate_alarm_code(request, mapping_id: Id):
    mapping = selectors.get_alarm_mapping_for(request.user, mapping_id)
    return services.update_alarm_mapping(mapping, actor=request.user, is_active=False)


@router.get("/rules", response=list[ThresholdRuleOut])
@paginate(PageNumberPagination, page_size=50)
def list_rules(request):
    require(may_manage_devices(request.user))
    return selectors.threshold_rules_for(request.user).order_by("name", "pk")


@router.get("/rules/{int:rule_id}", response=ThresholdRuleOut)
def get_rule(request, rule_id: Id):
    return selectors.get_threshold_rule_for(request.user, rule_id)


@router.post("/rules", response={201: ThresholdRuleOut})
@idempotent
def create_rule(request, payload: ThresholdRuleIn):
    return 201, services.create_threshold_rule(actor=request.user, **payload.model_dump())


@router.patch("/rules/{int:rule_id}", response=ThresholdRuleOut)
def update_rule(request, rule_id: Id, payload: ThresholdRulePatch):
    rule = selectors.get_threshold_rule_for(request.user, rule_id)
    return services.update_threshold_rule(rule, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.post("/rules/{int:rule_id}/deactivate", response=ThresholdRuleOut)
def deactivate_rule(request, rule_id: Id):
    rule = selectors.get_threshold_rule_for(request.user, rule_id)
    return services.update_threshold_rule(rule, actor=request.user, is_active=False)


@router.get("/alarms", response=list[MachineAlarmOut])
@paginate(PageNumberPagination, page_size=50)
def list_alarms(request, open_only: bool = False, severity: str = "", customer: Id | None = None, q: str = ""):
    """The alarms of the machines the caller may see (a customer its own, a provider those of the
    orders dispatched to it), newest first."""
    alarms = selectors.filter_alarms(
        selectors.alarms_for(request.user), open_only=open_only, severity=severity[:10], customer=customer, q=q[:100]
    )
    return alarms.order_by("-raised_at", "-pk")
