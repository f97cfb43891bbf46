"""The administrator's side of the rules: alarm codes (what a code means to the service
department) and threshold rules. Created, edited and deactivated here; `iot.services.rules`
applies them to what machines send."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.assets.models import ProductModel
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_created, record_updated, snapshot
from fieldservice.iot.choices import RuleKind
from fieldservice.iot.models import AlarmMapping, ThresholdRule
from fieldservice.iot.permissions import may_manage_devices
from fieldservice.iot.services.ingest import NAME
from fieldservice.workorders.choices import Priority
from fieldservice.workorders.models import FaultCategory

MAPPING_FIELDS = ("code", "description", "fault_category", "priority", "opens_order", "notify_customer", "is_active")
RULE_FIELDS = (
    "name",
    "metric",
    "kind",
    "value",
    "window_minutes",
    "product_model",
    "fault_category",
    "priority",
    "notify_customer",
    "is_active",
)
MAX_WINDOW_MINUTES = 7 * 24 * 60
# Kinds that compare the metric with `value`.
VALUED_KINDS = frozenset({RuleKind.ABOVE, RuleKind.BELOW, RuleKind.RATE})


def _text(value, field: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not text:
        raise field_error(field, _("This field is required."), "required")
    if len(text) > limit:
        raise field_error(field, _("At most %(n)d characters.") % {"n": limit}, "max_length")
    return text


def _name(value, field: str) -> str:
    text = _text(value, field, 40, required=True)
    if not NAME.match(text):
        raise field_error(
            field, _("Letters, digits and the signs _ . : / - only, no spaces (as the machine sends it)."), "invalid"
        )
    return text


def _choice(value, field: str, choices) -> str:
    if value not in choices.values:
        raise field_error(field, _("Select a valid choice."), "invalid_choice")
    return value


def _instance(value, field: str, model):
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    found = model.objects.filter(pk=value).first() if str(value).isascii() and str(value).isdigit() else None
    if found is None:
        raise field_error(field, _("Select a valid choice."), "invalid_choice")
    return found


def _apply_mapping(mapping: AlarmMapping, values: dict) -> None:
    unknown = set(values) - set(MAPPING_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    if "code" in values:
        mapping.code = _name(values["code"], "code")
    if "description" in values:
        mapping.description = _text(values["description"], "description", 200)
    if "fault_category" in values:
        mapping.fault_category = _instance(values["fault_category"], "fault_category", FaultCategory)
    if "priority" in values:
        mapping.priority = _choice(values["priority"], "priority", Priority)
    for flag in ("opens_order", "notify_customer", "is_active"):
        if flag in values:
            setattr(mapping, flag, bool(values[flag]))
    if not mapping.code:
        raise field_error("code", _("This field is required."), "required")
    clash = AlarmMapping.objects.filter(code=mapping.code).exclude(pk=mapping.pk)
    if clash.exists():
        raise field_error("code", _("This alarm code is mapped already."), "duplicate")


def _save(obj, field: str, message: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise field_error(field, message, "duplicate") from None


@transaction.atomic
def create_alarm_mapping(*, actor: User, **values) -> AlarmMapping:
    require(may_manage_devices(actor))
    mapping = AlarmMapping()
    _apply_mapping(mapping, values)
    _save(mapping, "code", _("This alarm code is mapped already."))
    record_created(mapping, actor=actor, fields=MAPPING_FIELDS)
    return mapping


@transaction.atomic
def update_alarm_mapping(mapping: AlarmMapping, *, actor: User, **values) -> AlarmMapping:
    require(may_manage_devices(actor))
    mapping = AlarmMapping.objects.select_for_update().get(pk=mapping.pk)
    before = snapshot(mapping, MAPPING_FIELDS)
    _apply_mapping(mapping, values)
    _save(mapping, "code", _("This alarm code is mapped already."))
    record_updated(mapping, actor=actor, before=before)
    return mapping


def _apply_rule(rule: ThresholdRule, values: dict) -> None:
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    if "name" in values:
        rule.name = _text(values["name"], "name", 100, required=True)
    if "metric" in values:
        rule.metric = _name(values["metric"], "metric")
    if "kind" in values:
        rule.kind = _choice(values["kind"], "kind", RuleKind)
    if "value" in values:
        value = values["value"]
        if value in (None, ""):
            rule.value = None
        else:
            try:
                rule.value = float(value)
            except (TypeError, ValueError):
                raise field_error("value", _("Enter a number."), "invalid") from None
            if rule.value != rule.value or rule.value in (float("inf"), float("-inf")):
                raise field_error("value", _("Enter a number."), "invalid")
    if "window_minutes" in values:
        try:
            window = int(values["window_minutes"])
        except (TypeError, ValueError):
            raise field_error("window_minutes", _("Enter a whole number."), "invalid") from None
        if not 1 <= window <= MAX_WINDOW_MINUTES:
            raise field_error(
                "window_minutes",
                _("Between 1 and %(n)d minutes.") % {"n": MAX_WINDOW_MINUTES},
                "out_of_range",
            )
        rule.window_minutes = window
    if "product_model" in values:
        rule.product_model = _instance(values["product_model"], "product_model", ProductModel)
    if "fault_category" in values:
        rule.fault_category = _instance(values["fault_category"], "fault_category", FaultCategory)
    if "priority" in values:
        rule.priority = _choice(values["priority"], "priority", Priority)
    for flag in ("notify_customer", "is_active"):
        if flag in values:
            setattr(rule, flag, bool(values[flag]))
    if not rule.name:
        raise field_error("name", _("This field is required."), "required")
    if not rule.metric:
        raise field_error("metric", _("This field is required."), "required")
    if not rule.kind:
        raise field_error("kind", _("This field is required."), "required")
    if rule.kind in VALUED_KINDS and rule.value is None:
        raise field_error("value", _("This kind of rule needs a value to compare with."), "required")
    if rule.kind == RuleKind.RATE and rule.value is not None and rule.value <= 0:
        raise field_error("value", _("A rate must be above zero."), "invalid")


@transaction.atomic
def create_threshold_rule(*, actor: User, **values) -> ThresholdRule:
    require(may_manage_devices(actor))
    rule = ThresholdRule()
    _apply_rule(rule, values)
    rule.save()
    record_created(rule, actor=actor, fields=RULE_FIELDS)
    return rule


@transaction.atomic
def update_threshold_rule(rule: ThresholdRule, *, actor: User, **values) -> ThresholdRule:
    require(may_manage_devices(actor))
    rule = ThresholdRule.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(rule, RULE_FIELDS)
    _apply_rule(rule, values)
    rule.save()
    if "kind" in values or "metric" in values or "value" in values or not rule.is_active:
        # What held for the old condition says nothing about the new one.
        rule.states.all().delete()
    record_updated(rule, actor=actor, before=before)
    return rule
