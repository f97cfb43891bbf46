"""Closed orders for the settlement tests, made quickly: an order from the factory, its lead
assignment, fee lines, rating and SLA clock written directly (setup), then moved to closed with a
queryset update. The services under test read exactly these rows."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fieldservice.billing.models import FeeLine
from fieldservice.contracts.models import BusinessCalendar
from fieldservice.dispatch.models import Assignment
from fieldservice.feedback.models import Evaluation
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.models import WorkOrder
from tests import factories

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
APRIL = (dt.date(2026, 4, 1), dt.date(2026, 4, 30))


def local(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def closed_order(
    *,
    engineer=None,
    provider=None,
    customer=None,
    on: dt.date = dt.date(2026, 3, 15),
    hour: int = 12,
    service_type: str = "repair",
    hours: str = "2.5",
    labour: str | None = None,
    km: str | None = None,
    parts: str | None = None,
    score: int | None = None,
    sla: str | None = None,
) -> WorkOrder:
    order = factories.work_order(customer, service_type=service_type)
    # The clocks the order's policy started are not this test's: its own say met or breached.
    SlaClock.objects.filter(work_order=order).delete()
    Assignment.objects.create(work_order=order, engineer=engineer, provider=provider, role="lead", status="accepted")
    if labour is not None:
        FeeLine.objects.create(
            work_order=order, kind="labour", description="Labour", amount=Decimal(labour), source="auto"
        )
    if km is not None:
        FeeLine.objects.create(
            work_order=order, kind="travel", description="Travel", quantity=Decimal(km), unit="km", source="auto"
        )
    if parts is not None:
        part = factories.part()
        FeeLine.objects.create(
            work_order=order, kind="part", part=part, description="Part", amount=Decimal(parts), source="auto"
        )
        # A removed line counts for nothing.
        FeeLine.objects.create(
            work_order=order,
            kind="part",
            part=part,
            description="Gone",
            amount=Decimal("999"),
            source="auto",
            is_void=True,
        )
    if score is not None:
        Evaluation.objects.create(work_order=order, overall=score, timeliness=score, attitude=score, quality=score)
    if sla is not None:
        calendar = BusinessCalendar.objects.order_by("pk").first() or BusinessCalendar.objects.create(name="Cal")
        started = local(on, hour) - dt.timedelta(hours=8)
        SlaClock.objects.create(
            work_order=order,
            kind="resolution",
            calendar=calendar,
            target_minutes=240,
            started_at=started,
            due_at=started + dt.timedelta(hours=4),
            at_risk_at=started + dt.timedelta(hours=3),
            met_at=started + dt.timedelta(hours=2) if sla == "met" else None,
            breached_at=started + dt.timedelta(hours=4) if sla == "breached" else None,
        )
    WorkOrder.objects.filter(pk=order.pk).update(
        status="closed", closed_at=local(on, hour), completed_at=local(on, hour), labour_hours=Decimal(hours)
    )
    order.refresh_from_db()
    return order
