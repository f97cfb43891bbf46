"""Which machines' alarms each user may see, and the alarm list's filters.

Our staff who may view machine data see every machine's; an engineer of ours, or of a provider,
the machines of the orders he was given; a provider's administrator the machines of the orders
dispatched to the provider; a customer its own machines'."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.iot.models import Alarm, AlarmMapping, ThresholdRule
from fieldservice.iot.permissions import may_manage_devices, may_view_machine_data
from fieldservice.workorders.selectors import work_orders_for


def machine_scope(actor: User) -> Q | None:
    """A condition on `equipment` for the machines the actor may see the data of (None: all)."""
    if actor.is_own_staff and (actor.is_superuser or actor.role_codes - {"engineer"}):
        return None
    if actor.organisation_kind == OrganisationKind.CUSTOMER:
        return Q(equipment__customer__organisation_id=actor.organisation_id)
    # Engineers and providers: the machines of the orders given to them.
    machines = work_orders_for(actor).filter(equipment__isnull=False).order_by().values("equipment_id")
    return Q(equipment_id__in=machines)


def with_descriptions(alarms: QuerySet[Alarm]) -> QuerySet[Alarm]:
    """Each alarm with `described`: what the administrator wrote for its code (the device sends
    only the code), or None."""
    mapping = AlarmMapping.objects.filter(code=OuterRef("code")).exclude(description="")
    return alarms.annotate(described=Subquery(mapping.values("description")[:1]))


def alarms_for(actor: User) -> QuerySet[Alarm]:
    if not may_view_machine_data(actor):
        return Alarm.objects.none()
    alarms = with_descriptions(
        Alarm.objects.select_related("equipment__product_model", "equipment__customer", "work_order")
    )
    scope = machine_scope(actor)
    return alarms if scope is None else alarms.filter(scope)


def filter_alarms(
    alarms: QuerySet[Alarm], *, open_only: bool = False, severity: str = "", customer: int | None = None, q: str = ""
) -> QuerySet[Alarm]:
    if open_only:
        alarms = alarms.filter(cleared_at__isnull=True)
    if severity:
        alarms = alarms.filter(severity=severity)
    if customer:
        alarms = alarms.filter(equipment__customer_id=customer)
    q = (q or "").strip()
    if q:
        alarms = alarms.filter(
            Q(code__icontains=q) | Q(equipment__serial_number__icontains=q) | Q(message__icontains=q)
        )
    return alarms


def alarm_mappings_for(actor: User) -> QuerySet[AlarmMapping]:
    if not may_manage_devices(actor):
        return AlarmMapping.objects.none()
    return AlarmMapping.objects.select_related("fault_category")


def get_alarm_mapping_for(actor: User, pk: int) -> AlarmMapping:
    return get_object_or_404(alarm_mappings_for(actor), pk=pk)


def threshold_rules_for(actor: User) -> QuerySet[ThresholdRule]:
    if not may_manage_devices(actor):
        return ThresholdRule.objects.none()
    return ThresholdRule.objects.select_related("product_model", "fault_category")


def get_threshold_rule_for(actor: User, pk: int) -> ThresholdRule:
    return get_object_or_404(threshold_rules_for(actor), pk=pk)
