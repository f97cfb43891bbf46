"""HTTP API of machine data, under /api/v1/iot/: the connected machines and the offline ones, a
machine's live state, its readings over a period cut down to buckets, and its forecast.

Scoped as the machine page is (`selectors.machines.machines_for`): a customer sees its own
machines, a provider those of the orders dispatched to it, an engineer those he visits, our office
staff all. Another's machine is a 404; lists hold only the caller's machines."""

import datetime as dt
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination
from fieldservice.core.errors import field_error
from fieldservice.core.validation import check_date
from fieldservice.iot.models import METRIC_LENGTH
from fieldservice.iot.selectors import machines as selectors
from fieldservice.iot.services import forecast as forecasting

router = Router()

Buckets = Annotated[int, Field(ge=1, le=selectors.CHART_POINTS)]
Horizon = Annotated[int, Field(ge=1, le=365)]
DEFAULT_PERIOD = dt.timedelta(hours=24)


class MachineSummaryOut(Schema):
    id: int
    serial_number: str
    product_model: str
    customer: int
    customer_name: str
    site: str | None
    last_seen_at: dt.datetime | None
    expected_interval_seconds: int | None
    online: bool | None = Field(description="By heartbeat; null when never heard from.")
    open_alarm_count: int

    @staticmethod
    def resolve_product_model(obj) -> str:
        return obj.product_model.code

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.customer_id

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_site(obj) -> str | None:
        return obj.site.name if obj.site_id else None

    @staticmethod
    def resolve_last_seen_at(obj) -> dt.datetime | None:
        presence = getattr(obj, "presence", None)  # none yet: a missing reverse one-to-one
        return presence.last_seen_at if presence is not None else None

    @staticmethod
    def resolve_expected_interval_seconds(obj) -> int | None:
        presence = getattr(obj, "presence", None)
        return presence.expected_interval_seconds if presence is not None else None

    @staticmethod
    def resolve_online(obj) -> bool | None:
        return selectors.is_online(getattr(obj, "presence", None), timezone.now())


class LatestValueOut(Schema):
    metric: str
    value: float
    unit: str
    at: dt.datetime


class OpenAlarmOut(Schema):
    id: int
    code: str
    description: str | None = Field(
        None, validation_alias="described", description="The administrator's text for the code"
    )
    severity: str
    message: str
    raised_at: dt.datetime
    repeats: int
    work_order: int | None = Field(validation_alias="work_order_id")


class MachineStateOut(Schema):
    id: int
    serial_number: str
    product_model: str
    customer: int
    customer_name: str
    site: str | None
    connected: bool = Field(description="A device reports (or reported) for it.")
    last_seen_at: dt.datetime | None
    expected_interval_seconds: int | None
    online: bool | None = Field(description="By heartbeat; null when never heard from.")
    latest: list[LatestValueOut]
    open_alarms: list[OpenAlarmOut]


class BucketOut(Schema):
    at: dt.datetime = Field(description="The time of the bucket's first reading.")
    low: float
    high: float
    mean: float
    count: int


class SeriesOut(Schema):
    metric: str
    unit: str
    start: dt.datetime
    end: dt.datetime
    bucket_seconds: float = Field(description="The length of each bucket; the buckets without readings are left out.")
    buckets: list[BucketOut]


class ThresholdOut(Schema):
    rule: int
    name: str
    direction: str = Field(description="above or below")
    value: float


class TrendOut(Schema):
    slope_per_day: float
    value_now: float = Field(description="The trend line's value now.")
    r2: float
    hours: int = Field(description="Hourly means the line was fitted through.")
    first_at: dt.datetime
    last_at: dt.datetime


class CrossingOut(Schema):
    at: dt.datetime
    on: dt.date
    days: float = Field(description="Days from now; 0 when already beyond the threshold.")


class MachineForecastOut(Schema):
    metric: str
    threshold: ThresholdOut
    trend: TrendOut
    confident: bool = Field(description="The fit is trusted: enough hours over enough days, R² high enough, recent.")
    crossing: CrossingOut | None = Field(description="The predicted crossing within the horizon, if any.")


def _summary(equipment) -> dict:
    return {
        "id": equipment.pk,
        "serial_number": equipment.serial_number,
        "product_model": equipment.product_model.code,
        "customer": equipment.customer_id,
        "customer_name": equipment.customer.name,
        "site": equipment.site.name if equipment.site_id else None,
    }


def _moment(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A query's moment made aware (a naive one is in the current time zone) and refused, naming
    the field, outside the dates the application accepts."""
    if value is None:
        return None
    check_date(value.date(), field=field)  # first as written: no conversion can overflow after this
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    check_date(value, field=field)
    return value


@router.get("/machines", response=list[MachineSummaryOut])
@paginate(PageNumberPagination, page_size=50)
def list_machines(request, q: str = "", customer: Id | None = None):
    """The connected machines the caller may see (served by a device, or heard from), by serial
    number; `q` searches the serial number, model, customer, site and city."""
    machines = selectors.filter_offline(selectors.connected_machines_for(request.user), text=q[:100], customer=customer)
    return selectors.with_connection(machines).order_by("serial_number", "pk")


@router.get("/offline", response=list[MachineSummaryOut])
@paginate(PageNumberPagination, page_size=50)
def list_offline_machines(request, q: str = "", customer: Id | None = None):
    """The caller's machines silent for longer than their expected interval, the longest silent first."""
    machines = selectors.filter_offline(selectors.offline_machines_for(request.user), text=q[:100], customer=customer)
    return selectors.with_connection(machines)


@router.get("/machines/{int:machine_id}", response=MachineStateOut)
def get_machine_state(request, machine_id: Id):
    """The machine's live state: online or offline, its latest value of each metric, its open alarms."""
    equipment = selectors.get_machine_for(request.user, machine_id)
    state = selectors.live_state(equipment)
    return {
        **_summary(equipment),
        "connected": state.connected,
        "last_seen_at": state.last_seen_at,
        "expected_interval_seconds": state.expected_interval_seconds,
        "online": state.online,
        "latest": state.latest,
        "open_alarms": state.open_alarms,
    }


@router.get("/machines/{int:machine_id}/readings", response=SeriesOut)
def get_machine_readings(
    request,
    machine_id: Id,
    metric: Annotated[str, Field(max_length=METRIC_LENGTH)],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    buckets: Buckets = selectors.CHART_POINTS,
):
    """The machine's readings of `metric` in [start, end) (default: the last 24 hours), grouped into
    at most `buckets` equal slices of time, each with its low, high and mean, oldest first. The
    period is at most a year."""
    equipment = selectors.get_machine_for(request.user, machine_id)
    latest = {value.metric: value for value in equipment.latest_values.all()}
    if metric not in latest:
        raise field_error("metric", _("This machine has no readings of “%(metric)s”.") % {"metric": metric})
    start, end = _moment(start, "start"), _moment(end, "end")
    end = end or (timezone.now() if start is None else min(start + DEFAULT_PERIOD, timezone.now()))
    start = start or end - DEFAULT_PERIOD
    if end <= start:
        raise field_error("end", _("The end of the period is before its start."))
    if end - start > dt.timedelta(days=selectors.MAX_PERIOD_DAYS):
        raise field_error("end", _("A period is at most a year."))
    return {
        "metric": metric,
        "unit": latest[metric].unit,
        "start": start,
        "end": end,
        "bucket_seconds": (end - start).total_seconds() / buckets,
        "buckets": selectors.readings_series(equipment, metric, start, end, limit=buckets),
    }


@router.get("/machines/{int:machine_id}/forecast", response=list[MachineForecastOut])
def get_machine_forecast(request, machine_id: Id, horizon: Horizon = forecasting.HORIZON_DAYS):
    """The trend of each metric a threshold rule watches for the machine, with the crossing of the
    threshold predicted within `horizon` days when the fit is trusted; an empty list when no
    watched metric has readings enough."""
    equipment = selectors.get_machine_for(request.user, machine_id)
    return [
        {
            "metric": row.metric,
            "threshold": {
                "rule": row.threshold.rule_id,
                "name": row.threshold.name,
                "direction": row.threshold.direction,
                "value": row.threshold.value,
            },
            "trend": {
                "slope_per_day": row.trend.slope_per_day,
                "value_now": row.trend.value_now,
                "r2": row.trend.r2,
                "hours": row.trend.points,
                "first_at": row.trend.first_at,
                "last_at": row.trend.last_at,
            },
            "confident": row.confident,
            "crossing": (
                {"at": row.prediction.crosses_at, "on": row.prediction.crosses_on, "days": row.prediction.days_left}
                if row.prediction
                else None
            ),
        }
        for row in forecasting.machine_trends(equipment, horizon_days=horizon)
    ]
